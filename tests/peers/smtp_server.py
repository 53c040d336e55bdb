#!/usr/bin/python3
"""A loopback SMTP server for tests, built on Debian's aiosmtpd (run it with /usr/bin/python3).

Listens on 127.0.0.1, port 0 (or --port), and writes the bound port to --port-file once it accepts
connections. Every message is stored as a file in --out-dir (msg-<n>.eml, the exact bytes received
after DATA, dot-unstuffed) and every event is appended to <out-dir>/sessions.jsonl, one JSON object a
line, each with "event" and "conn" (a connection id counting from 1):
  {"event": "connect", "conn": 1, "peer": "127.0.0.1:51234"}
  {"event": "starttls", "conn": 1}
  {"event": "auth", "conn": 1, "login": "user", "success": true}
  {"event": "mail", "conn": 1, "mail_from": "bounce+x@school.example"}
  {"event": "rcpt", "conn": 1, "rcpt": "a@example.org", "reply": "250 OK"}
  {"event": "message", "conn": 1, "mail_from": ..., "rcpt_tos": [...], "file": "msg-1.eml",
   "tls": true, "auth": "user"}
  {"event": "disconnect", "conn": 1}
so a test counts connections with the "connect" lines.

Options:
  --tls-cert FILE --tls-key FILE  offer STARTTLS with this certificate
  --require-starttls              refuse MAIL before STARTTLS (530)
  --auth USER:PASS                require AUTH (PLAIN/LOGIN) with these credentials; over TLS only
                                  when a certificate is given
  --reject RCPT=CODE              answer RCPT TO:<RCPT> with CODE (e.g. 550, 451); repeatable
Exits on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

REJECT_TEXT = {
    "550": "550 5.1.1 <{rcpt}>: no such user",
    "551": "551 5.1.6 <{rcpt}>: user has moved",
    "552": "552 5.2.2 <{rcpt}>: mailbox full",
    "553": "553 5.1.3 <{rcpt}>: bad address syntax",
    "450": "450 4.2.1 <{rcpt}>: mailbox busy, try later",
    "451": "451 4.3.0 <{rcpt}>: temporary failure, try again later",
    "452": "452 4.2.2 <{rcpt}>: insufficient storage",
}


class Recorder:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.log_path = os.path.join(out_dir, "sessions.jsonl")
        self.messages = itertools.count(1)

    def log(self, **event):
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()


class Handler:
    def __init__(self, recorder, rejects):
        self.recorder = recorder
        self.rejects = rejects

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.recorder.log(event="mail", conn=session.conn_id, mail_from=address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.rejects.get(address.lower())
        if code is not None:
            reply = REJECT_TEXT.get(code, code + " rejected <{rcpt}>").format(rcpt=address)
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 OK"
        self.recorder.log(event="rcpt", conn=session.conn_id, rcpt=address, reply=reply)
        return reply

    async def handle_DATA(self, server, session, envelope):
        n = next(self.recorder.messages)
        name = "msg-%d.eml" % n
        tmp = os.path.join(self.recorder.out_dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.recorder.out_dir, name))
        self.recorder.log(event="message", conn=session.conn_id, mail_from=envelope.mail_from,
                          rcpt_tos=envelope.rcpt_tos, file=name,
                          tls=session.ssl is not None,
                          auth=getattr(session, "login_name", None))
        return "250 2.0.0 Ok: queued as %d" % n


class RecordingSMTP(SMTP):
    ids = itertools.count(1)
    recorder = None

    def connection_made(self, transport):
        # aiosmtpd calls this again, on the same protocol object, once STARTTLS has completed.
        after_starttls = self.transport is not None and self._original_transport is not None
        super().connection_made(transport)
        if after_starttls:
            self.session.conn_id = self._conn_id
            self.recorder.log(event="starttls", conn=self._conn_id)
            return
        self._conn_id = next(RecordingSMTP.ids)
        self.session.conn_id = self._conn_id
        peer = self.session.peer
        self.recorder.log(event="connect", conn=self._conn_id,
                          peer="%s:%s" % (peer[0], peer[1]) if isinstance(peer, tuple) else str(peer))

    def connection_lost(self, exc):
        conn = getattr(self, "_conn_id", None)
        super().connection_lost(exc)
        if conn is not None:
            self.recorder.log(event="disconnect", conn=conn)


def make_authenticator(recorder, user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user and auth_data.password.decode() == password)
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else ""
        recorder.log(event="auth", conn=getattr(session, "conn_id", None), login=login, success=ok)
        if ok:
            session.login_name = login
            return AuthResult(success=True)
        # handled=False lets aiosmtpd send its 535; handled=True with no reply hangs the client.
        return AuthResult(success=False, handled=False)
    return authenticator


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth", help="USER:PASS")
    p.add_argument("--reject", action="append", default=[], help="RCPT=CODE")
    args = p.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    recorder = Recorder(args.out_dir)
    RecordingSMTP.recorder = recorder
    rejects = {}
    for item in args.reject:
        rcpt, _, code = item.rpartition("=")
        if not rcpt or not code.isdigit():
            p.error("--reject wants RCPT=CODE, got " + item)
        rejects[rcpt.lower()] = code

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    kwargs = dict(hostname="homeroom-test-smtp", tls_context=tls_context,
                  require_starttls=args.require_starttls, decode_data=False, timeout=60)
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs.update(authenticator=make_authenticator(recorder, user, password),
                      auth_required=True, auth_require_tls=tls_context is not None)

    handler = Handler(recorder, rejects)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: RecordingSMTP(handler, loop=loop, **kwargs), sock=sock))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    port = sock.getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
