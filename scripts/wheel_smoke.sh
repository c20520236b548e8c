#!/usr/bin/env bash
# The wheel alone runs Quartier: build it, install it into a fresh venv, and from a directory
# outside the repository migrate a new SQLite database and serve until /readyz says ready.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/quartier-wheel-smoke.XXXXXX")"
server=""

cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "wheel_smoke: $*"; }

step "building the wheel of $repo"
"$python" -m pip wheel --quiet --no-deps -w "$work/dist" "$repo" 2>"$work/build.log" \
  || { cat "$work/build.log" >&2; exit 1; }
wheel="$(ls "$work"/dist/quartier-*.whl)"
step "built $(basename "$wheel")"

step "installing it into a fresh venv in $work/venv"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel" 2>&1 | grep -v "is ignored" >&2 || true
"$work/venv/bin/pip" show --quiet quartier >/dev/null || { echo "wheel_smoke: not installed" >&2; exit 1; }

mkdir "$work/outside"
cd "$work/outside"  # nothing below may import from the source tree
unset PYTHONPATH
export QUARTIER_DATABASE_URL="sqlite:///$work/outside/smoke.sqlite3"
location="$("$work/venv/bin/python" -c 'import api.routers, notifications, workflow; print(workflow.__file__)')"
case "$location" in
  "$work/venv/"*) step "workflow imports from $location" ;;
  *) echo "wheel_smoke: workflow imports from $location, not the venv" >&2; exit 1 ;;
esac

step "quartier db upgrade against $QUARTIER_DATABASE_URL"
"$work/venv/bin/quartier" db upgrade

port="$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
step "quartier serve --port $port (log in $work/outside/serve.log)"
"$work/venv/bin/quartier" serve --port "$port" >serve.log 2>&1 &
server=$!

step "polling http://127.0.0.1:$port/readyz (60 s at most)"
if ! "$work/venv/bin/python" - "$port" <<'EOF'; then
import json
import sys
import time
import urllib.request

url = f"http://127.0.0.1:{sys.argv[1]}/readyz"
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read().decode()
            if response.status == 200 and json.loads(body).get("status") == "ready":
                print(f"wheel_smoke: {response.status} {body}")
                sys.exit(0)
            print(f"wheel_smoke: {response.status} {body}", file=sys.stderr)
            sys.exit(1)
    except (OSError, ValueError):
        time.sleep(0.5)
print(f"wheel_smoke: {url} did not answer within 60 s", file=sys.stderr)
sys.exit(1)
EOF
  echo "wheel_smoke: the server's log:" >&2
  cat serve.log >&2
  exit 1
fi

kill "$server"
wait "$server" 2>/dev/null || true
server=""
step "ok: the wheel installs, migrates and serves"
