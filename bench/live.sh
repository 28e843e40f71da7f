#!/usr/bin/env bash
# Webhook -> live WebSocket latency (p50/p90/p99/max) with 200 queued conversations.
#   bench/live.sh                    # all scenarios, results in $OUT (default /tmp/relais-live-<date>)
#   RATES=100,300 SECONDS_PER_RATE=20 CHATS=200 SCENARIOS="sqlite pg-redis pg-same" bench/live.sh
# Scenarios: sqlite   = one instance on SQLite, webhooks and WebSocket on it;
#            pg-redis = two instances on PostgreSQL + Redis, webhooks to A, WebSocket on B;
#            pg-same  = the same two instances, webhooks and WebSocket both on A.
# Needs: target/release/relais (built beforehand; this script does not build), python3 >= 3.10,
# curl, nginx (fake Telegram API), openssl; for pg-*: psql to 127.0.0.1:5432 (trust, user
# postgres) and redis on 127.0.0.1:6379. Python deps (websockets, aiohttp) go to a venv in /tmp.
# Before each scenario it waits up to QUIET_WAIT s (default 120) for the 1-minute load average
# to fall below 1.5, and the tool records every process group's CPU use during each window.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RATES=${RATES:-100,300}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-20}
CHATS=${CHATS:-200}
SCENARIOS=${SCENARIOS:-"sqlite pg-redis pg-same"}
QUIET_WAIT=${QUIET_WAIT:-120}
OUT=${OUT:-/tmp/relais-live-$(date +%Y%m%d-%H%M%S)}
VENV=${VENV:-/tmp/relais-live-venv}
WORK=$(mktemp -d /tmp/relais-live-work.XXXXXX)
mkdir -p "$OUT"
PIDS=()
DB=""
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/log.txt" >&2; }
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n $DB ]]; then psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

BIN=${RELAIS_BIN:-$ROOT/target/release/relais}  # RELAIS_BIN: another build of the same code
[[ -x $BIN ]] || { echo "no $BIN: build it first (cargo build --release)" >&2; exit 1; }
grep -qa '/v1/live' "$BIN" || { echo "$BIN has no /v1/live route: it predates the live events; rebuild it" >&2; exit 1; }
cp "$BIN" "$WORK/relais"
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import websockets, aiohttp' 2>/dev/null; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q websockets aiohttp
fi
PY=$VENV/bin/python
SECRET=bench-$(openssl rand -hex 8)
pick_port() { local p=$1; while (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

wait_quiet() {
    local i load
    for ((i = 0; i < QUIET_WAIT; i += 5)); do
        load=$(cut -d' ' -f1 /proc/loadavg)
        awk -v l="$load" 'BEGIN { exit !(l < 1.5) }' && { log "load average $load: go"; return 0; }
        sleep 5
    done
    log "load average still $(cut -d' ' -f1 /proc/loadavg) after ${QUIET_WAIT}s: measuring anyway (see cpu 'other')"
}

# ---- fake Telegram API: nginx answering every call with a canned sendMessage result ----------
FAKE=$WORK/fake; mkdir -p "$FAKE/tmp"
FAKE_PORT=$(pick_port 18700)
cat >"$FAKE/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $FAKE/nginx.pid;
error_log $FAKE/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $FAKE/tmp/body; proxy_temp_path $FAKE/tmp/proxy;
    fastcgi_temp_path $FAKE/tmp/fastcgi; uwsgi_temp_path $FAKE/tmp/uwsgi; scgi_temp_path $FAKE/tmp/scgi;
    server {
        listen 127.0.0.1:$FAKE_PORT;
        location / {
            default_type application/json;
            return 200 '{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private","first_name":"x"},"text":"x"}}';
        }
    }
}
EOF
nginx -p "$FAKE" -c "$FAKE/nginx.conf" -e "$FAKE/error.log" &
PIDS+=($!); FAKE_PID=$!

COMMON=(RELAIS_LOG=warn RELAIS_RATE_LIMIT_GUESS_PER_MINUTE=1000000 RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE=1000000
        RELAIS_TELEGRAM_TOKEN=123456:BENCH RELAIS_TELEGRAM_WEBHOOK_SECRET="$SECRET"
        RELAIS_TELEGRAM_API_URL="http://127.0.0.1:$FAKE_PORT" RELAIS_HELPLINE_HOURS="mon-sun 00:00-24:00")

# start NAME PORT [extra env...] -> sets LAST_PID
start() {
    local name=$1 port=$2; shift 2
    mkdir -p "$WORK/$name"
    env -C "$WORK/$name" RELAIS_BIND="127.0.0.1:$port" RELAIS_DATA_DIR="$WORK/$name/var" "${COMMON[@]}" "$@" \
        "$WORK/relais" serve >"$OUT/server-$name.log" 2>&1 &
    LAST_PID=$!; PIDS+=("$LAST_PID")
    for _ in $(seq 150); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        kill -0 "$LAST_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "relais $name did not come up; see $OUT/server-$name.log" >&2; exit 1
}
# listener credentials from `relais demo` (same env as the server)
listener() {
    local name=$1; shift
    env -C "$WORK/$name" RELAIS_DATA_DIR="$WORK/$name/var" "${COMMON[@]}" "$@" "$WORK/relais" demo \
        | awk -F'\t' '$3 == "listener@demo.relais.example" { print $3 "\t" $4; exit }'
}
run_tool() {  # LABEL HOOK_BASE WS_BASE OWN_PIDS
    local creds email pass
    creds=$(listener "$CRED_FROM" "${CRED_ENV[@]}")
    email=${creds%%$'\t'*}; pass=${creds#*$'\t'}
    [[ -n $email ]] || { echo "no listener account from relais demo" >&2; exit 1; }
    wait_quiet
    log "scenario $1: webhooks -> $2, WebSocket on $3, $CHATS chats, rates $RATES, ${SECONDS_PER_RATE}s each"
    "$PY" "$ROOT/bench/live_tool.py" --hook "$2" --ws "$3" --secret "$SECRET" --email "$email" --password "$pass" \
        --chats "$CHATS" --chat-base "$CHAT_BASE" --rates "$RATES" --seconds "$SECONDS_PER_RATE" --label "$1" \
        --own-pids "$4 $FAKE_PID" --out "$OUT" --db "$5" | tee -a "$OUT/results.jsonl"
}

log "commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
log "binary $BIN ($(stat -c %y "$BIN" | cut -c1-19), sha256 $(sha256sum "$WORK/relais" | cut -c1-16)), out $OUT"

for sc in $SCENARIOS; do
    case $sc in
    sqlite)
        P=$(pick_port 18710); start sqlite "$P"; SQ_PID=$LAST_PID
        CRED_FROM=sqlite; CRED_ENV=(); CHAT_BASE=7100000
        run_tool sqlite "http://127.0.0.1:$P" "http://127.0.0.1:$P" "$SQ_PID" ""
        kill "$SQ_PID"; wait "$SQ_PID" 2>/dev/null || true
        ;;
    pg-redis | pg-same)
        if [[ -z $DB ]]; then
            DB=relais_live_$(date +%s)
            psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
            PGENV=(RELAIS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" RELAIS_REDIS_URL=redis://127.0.0.1:6379
                   RELAIS_JWT_KEY="$(openssl rand -base64 48)" RELAIS_HMAC_PEPPER="$(openssl rand -base64 48)"
                   RELAIS_FIELD_KEY="$(openssl rand -base64 48)")
            PA=$(pick_port 18720); start pg-a "$PA" "${PGENV[@]}"; PGA_PID=$LAST_PID
            PB=$(pick_port $((PA + 1))); start pg-b "$PB" "${PGENV[@]}"; PGB_PID=$LAST_PID
            CRED_FROM=pg-a; CRED_ENV=("${PGENV[@]}")
            listener pg-a "${PGENV[@]}" >/dev/null  # creates the demo accounts in PostgreSQL
        fi
        if [[ $sc == pg-redis ]]; then
            CHAT_BASE=7200000; run_tool pg-redis "http://127.0.0.1:$PA" "http://127.0.0.1:$PB" "$PGA_PID $PGB_PID" "$DB"
        else
            CHAT_BASE=7300000; run_tool pg-same "http://127.0.0.1:$PA" "http://127.0.0.1:$PA" "$PGA_PID $PGB_PID" "$DB"
        fi
        ;;
    *) echo "unknown scenario $sc" >&2; exit 1 ;;
    esac
done
log "done: $OUT/results.jsonl"
