#!/usr/bin/env bash
# schemathesis against a real server: `quartier db upgrade` and `quartier seed` (development
# mode) on a temporary SQLite file and on a throwaway PostgreSQL database, side by side; on each,
# one run per role (carrier, reviewer, admin) with that role's bearer token, schemathesis'
# default checks and 30 examples per operation. Any server error or conformance failure fails.
#
# Installs nothing: schemathesis comes with the `dev` extra (`make install`). The statuses a
# schema-valid request may get for a business rule are in scripts/schemathesis.toml.
#
#   SCHEMATHESIS_DATABASES="sqlite postgresql"  which databases to run against
#   SCHEMATHESIS_ROLES="carrier reviewer admin" which roles
#   SCHEMATHESIS_MAX_EXAMPLES=30                examples per operation (CI keeps the default)
#   SCHEMATHESIS_SEED=N                         replay a run (every run prints its seed)
#   SCHEMATHESIS_REPORTS=var/schemathesis       JUnit and JSON reports, one folder per run
#   QUARTIER_TEST_PG=postgresql://postgres@127.0.0.1:5432/postgres
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${VENV:-$repo/.venv}/bin"
config="$repo/scripts/schemathesis.toml"
pg_admin="${QUARTIER_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}"
databases="${SCHEMATHESIS_DATABASES:-sqlite postgresql}"
roles="${SCHEMATHESIS_ROLES:-carrier reviewer admin}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
reports="${SCHEMATHESIS_REPORTS:-$repo/var/schemathesis}"
password="quartier-demo"
work="$(mktemp -d "${TMPDIR:-/tmp}/quartier-schemathesis.XXXXXX")"
server=""
pg_database=""

declare -A email=(
  [carrier]="traeger1@quartier.example"
  [reviewer]="pruefung@quartier.example"
  [admin]="admin@quartier.example"
)

step() { echo "schemathesis.sh: $*"; }

for tool in schemathesis quartier python; do
  [[ -x "$bin/$tool" ]] || { echo "schemathesis.sh: $bin/$tool missing; run make install" >&2; exit 1; }
done

stop_server() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    # $server is the subshell that runs `env … quartier serve`: stop the server inside it too.
    pkill -TERM -P "$server" 2>/dev/null || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  server=""
}

pg() {  # pg create|drop NAME: a database on the PostgreSQL server of the tests
  "$bin/python" - "$pg_admin" "$1" "$2" <<'EOF'
import sys

import psycopg

admin, action, name = sys.argv[1:]
with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
EOF
}

cleanup() {
  stop_server
  if [[ -n "$pg_database" ]]; then pg drop "$pg_database" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A clean environment: no QUARTIER_* setting of the caller leaks into the server.
run_env() { env $(env | awk -F= '/^QUARTIER_/ {printf "-u %s ", $1}') "$@"; }

start_server() {  # start_server DATABASE_URL HOME: migrate, seed, serve; sets $base
  local url="$1" home="$2"
  mkdir -p "$home"
  cd "$home"
  export_env=(QUARTIER_DATABASE_URL="$url" QUARTIER_ENVIRONMENT=development)
  step "quartier db upgrade && quartier seed against $url"
  run_env "${export_env[@]}" "$bin/quartier" db upgrade >"$home/upgrade.log" 2>&1 \
    || { cat "$home/upgrade.log" >&2; return 1; }
  run_env "${export_env[@]}" "$bin/quartier" seed >"$home/seed.log" 2>&1 \
    || { cat "$home/seed.log" >&2; return 1; }
  calendar_url="$(run_env "${export_env[@]}" "$bin/quartier" calendar url "${email[carrier]}" \
    --json | "$bin/python" -c 'import json, sys; print(json.load(sys.stdin)["url"])')"
  # The carrier's secret feed token, so the calendar operation is tested past its 404.
  export SCHEMATHESIS_CALENDAR_TOKEN="${calendar_url##*/calendar/}"
  SCHEMATHESIS_CALENDAR_TOKEN="${SCHEMATHESIS_CALENDAR_TOKEN%.ics}"
  local port
  port="$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  step "quartier serve --port $port (log in $home/serve.log)"
  run_env "${export_env[@]}" "$bin/quartier" serve --port "$port" >"$home/serve.log" 2>&1 &
  server=$!
  "$bin/python" - "$base" <<'EOF' || { cat "$home/serve.log" >&2; return 1; }
import sys
import time

import httpx

deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if httpx.get(sys.argv[1] + "/readyz", timeout=2).status_code == 200:
            sys.exit(0)
    except httpx.TransportError:
        pass
    time.sleep(0.2)
sys.exit(f"schemathesis.sh: {sys.argv[1]} did not become ready within 60 s")
EOF
}

login() {  # login EMAIL: a bearer token, fetched before any run can throttle or disable logins
  "$bin/python" - "$base" "$1" "$password" <<'EOF'
import sys

import httpx

base, username, password = sys.argv[1:]
response = httpx.post(base + "/api/v1/auth/token", timeout=30,
                      data={"username": username, "password": password})
if response.status_code != 200:
    sys.exit(f"schemathesis.sh: login as {username}: {response.status_code} {response.text}")
print(response.json()["access_token"])
EOF
}

summarise() {  # summarise REPORT_DIR LABEL: each failure class and the operations it hit
  "$bin/python" - "$1" "$2" <<'EOF'
import json
import sys
from pathlib import Path

for path in sorted(Path(sys.argv[1]).glob("*.json"))[-1:]:
    for failure in json.loads(path.read_text()).get("failures", []):
        print(f"schemathesis.sh: {sys.argv[2]}: {failure['code']} {failure['title']} "
              f"({failure['count']}): {', '.join(failure['operations'])}")
EOF
}

rm -rf "$reports"/*-carrier* "$reports"/*-reviewer* "$reports"/*-admin*
mkdir -p "$reports"

run_database() {  # run_database NAME: migrate, seed and serve on it, then one run per role
  local database="$1" failed=()
  home="$work/$database"
  trap 'stop_server; if [[ -n "$pg_database" ]]; then pg drop "$pg_database" || true; fi' EXIT
  case "$database" in
    sqlite) url="sqlite:///$home/quartier.sqlite3" ;;
    postgresql)
      pg_database="quartier_st_$(date +%s)_$$"
      pg create "$pg_database"
      url="${pg_admin%/*}/$pg_database"
      ;;
    *) echo "schemathesis.sh: unknown database $database" >&2; exit 1 ;;
  esac
  start_server "$url" "$home"
  declare -A token=()
  for role in $roles; do token[$role]="$(login "${email[$role]}")"; done
  # The admin goes last: what an admin may break (disabled accounts, a funding stop) cannot
  # spoil the other roles' runs.
  # Operations that end the run's own session (logout, a password change or reset bumps the
  # token version, disabling locks the account) would leave every later request at 401; they
  # are tested in tests/api/routers/test_auth.py and test_admin.py instead.
  revoking=(--exclude-name "POST /api/v1/auth/logout" --exclude-name "POST /api/v1/me/password"
            --exclude-name "POST /api/v1/admin/users/{user_id}/reset-password"
            --exclude-name "POST /api/v1/admin/users/{user_id}/disable")
  for role in $roles; do
    step "$database / $role (${email[$role]}): schemathesis run $base/openapi.json"
    out="$reports/$database-$role"
    started=$SECONDS
    if timeout 900 "$bin/schemathesis" --config-file "$config" --no-color run \
        "$base/openapi.json" \
        --header "Authorization: Bearer ${token[$role]}" \
        --max-examples "$max_examples" \
        "${revoking[@]}" \
        ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
        --report junit,json --report-dir "$out" \
        >"$out.log" 2>&1; then
      tail -n 3 "$out.log"
    else
      cat "$out.log"
      summarise "$out" "$database/$role"
      failed+=("$database/$role")
    fi
    step "$database / $role took $((SECONDS - started)) s (full output in $out.log)"
  done
  if ((${#failed[@]})); then
    printf 'schemathesis.sh: failures in %s\n' "${failed[@]}" >&2
    return 1
  fi
}

# The databases run side by side (each its own server, database and schemathesis runs); their
# outputs are shown one after the other.
pids=()
for database in $databases; do
  run_database "$database" >"$work/$database.out" 2>&1 &
  pids+=("$!")
done
status=0
i=0
for database in $databases; do
  wait "${pids[$i]}" || status=1
  cat "$work/$database.out"
  i=$((i + 1))
done
((status == 0)) || exit 1
step "ok: no server errors and no conformance failures"
