#!/bin/sh
# Runs Dovecot's IMAP server in the foreground as the current user, on 127.0.0.1:PORT, with one
# user (USER, password PASS, plaintext login, no TLS) whose Maildir is DIR/mail.
# usage: dovecot_imap.sh DIR PORT USER PASS
set -eu
dir=$1 port=$2 user=$3 pass=$4
mkdir -p "$dir/run" "$dir/state" "$dir/mail/new" "$dir/mail/cur" "$dir/mail/tmp"
printf '%s:{PLAIN}%s\n' "$user" "$pass" > "$dir/passwd"
me=$(id -un)
group=$(id -gn)
login_user=$me
if [ "$(id -u)" -eq 0 ]; then
  # Dovecot refuses to run its login and mail processes as root: use its own users and hand the
  # Maildir to nobody.
  login_user=dovenull me=nobody group=nogroup
  chmod 755 "$dir"
  chown -R nobody:nogroup "$dir/mail"
fi
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
default_login_user = $login_user
default_internal_user = $(id -un)
default_internal_group = $(id -gn)
mail_location = maildir:$dir/mail
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
}
userdb {
  driver = static
  args = uid=$me gid=$group home=$dir
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  inet_listener http {
    port = 0
  }
}
CONF
exec /usr/sbin/dovecot -F -c "$dir/dovecot.conf"
