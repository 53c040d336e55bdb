#!/usr/bin/env bash
# Installs the plugin SDK with `cmake --install`, builds the out-of-tree example plugin
# (plugins/sdk/example) against the installed copy only, loads it into the real homeroomd, and
# sends a note through it.
#   sdk_plugin_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/homeroomd.log" ] && cat "$work/homeroomd.log" >&2
  exit 1
}

cmake --install "$build" --prefix "$work/prefix" --component sdk >/dev/null
[ -f "$work/prefix/include/homeroom/homeroom_plugin.h" ] || fail "the SDK header was not installed"
# Only the installed SDK is visible to this build: a fresh project, no path into the source tree.
cmake -S "$src/plugins/sdk/example" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" || fail "$(cat "$work/configure.log")"
grep -q "$work/prefix/include/homeroom" "$work/example/build.ninja" ||
  fail "the example did not build against the installed SDK"
cmake --build "$work/example" >"$work/build.log" || fail "$(cat "$work/build.log")"

cat >"$work/homeroom.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[store]
path = "$work/homeroom.db"
[plugins]
dir = "$work/example"
[channels.email]
plugin = "example_log"
channel = "email"
[channels.email.settings]
prefix = "sdk-"
TOML
"$build/bin/homeroomd" -c "$work/homeroom.toml" >"$work/homeroomd.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 300); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/homeroomd.log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "homeroomd did not start"
grep -q "loaded plugin example_log" "$work/homeroomd.log" || fail "the plugin was not loaded"

token=$("$build/bin/homeroomctl" --db "$work/homeroom.db" token create --role admin 2>/dev/null)
api() {
  curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"
}
base="http://127.0.0.1:$port"
api -X PUT "$base/v1/staff/t1" -d '{"name":"Ms. Lee"}' >/dev/null
api -X PUT "$base/v1/guardians/g1" \
  -d '{"given_name":"Ana","family_name":"Diaz","contacts":[{"channel":"email","address":"ana@example.org"}]}' >/dev/null
api -X PUT "$base/v1/students/s1" \
  -d '{"given_name":"Maya","family_name":"Diaz","staff":["t1"],"guardians":[{"id":"g1"}]}' >/dev/null
id=$(api -X POST "$base/v1/messages" -d '{"student_id":"s1","body":"Hello from the SDK test."}' |
  grep -o '"id":"msg_[A-Z0-9]*"' | head -1 | cut -d'"' -f4)
[ -n "$id" ] || fail "the note was not accepted"
for _ in $(seq 300); do
  state=$(api "$base/v1/messages/$id")
  echo "$state" | grep -q '"state":"sent"' && break
  sleep 0.05
done
echo "$state" | grep -q '"state":"sent"' || fail "not sent: $state"
echo "$state" | grep -q '"provider_id":"sdk-dlv_' || fail "not sent by the example plugin: $state"
echo "PASS: example plugin built against the installed SDK delivered $id"
