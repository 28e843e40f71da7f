#!/usr/bin/env bash
# Benchmark of the text line's webhook ingestion over loopback: signed Telegram webhooks to new
# and existing conversations, on SQLite and on PostgreSQL, beside the machine's raw limits
# measured in the same run. Reproduces the section "Text line: webhook ingestion" of
# docs/benchmarks.md (what the figures mean is written there).
#
#   bash bench/ingest.sh                      # about 6 minutes (plus BENCH_WAIT_IDLE waits)
#
# For each database, on a fresh server (SQLite: a new data folder; PostgreSQL: a new database,
# dropped at exit):
#   1. raw limits: the server's GET /healthz with wrk; the database's single-row
#      insert-and-commit rate (SQLite: ingest_tool.py sqlite-insert on a file in the same temp
#      folder, WAL + synchronous=NORMAL as the server sets them, BEGIN IMMEDIATE, from 1, 4 and
#      8 processes; PostgreSQL: pgbench -n -f insert.sql, autocommit, 1, 4 and 8 clients);
#   2. warms a pool of existing chats (one update each), then
#   3. latency at a fixed rate: ingest_tool.py fixed, an open-loop generator (latency from each
#      request's due time, as wrk2 measures; at most 40 connections, as Telegram; a per-second
#      timeline in fixed-*.timeline.tsv), at BENCH_RATES in turn, stopping at the first
#      rate that is held (>= 95 % of it answered) with p99 < 25 ms and no error;
#   4. sustained throughput: wrk with bench/ingest.lua (closed loop) at BENCH_CONNECTIONS.
# Every webhook carries a unique update_id; BENCH_NEW_PCT % come from new chats (a new contact
# and conversation), the rest from the warmed pool. The bot's replies are delivered by the
# server's own delivery worker to a fake Telegram API (nginx answering every call with a
# canned sendMessage result). Before and after each run the script reads /metrics: the server's
# count of answers by status, messages in and out, and the outbox depth. At the end it checks
# in the database that every update answered 200 was stored once.
#
# Needs: wrk, curl, python3 (standard library), nginx (nginx-light), lscpu; psql, pgbench and a
# PostgreSQL server for the PostgreSQL rows (skipped, and said so, when not reachable).
#
# Knobs (environment):
#   BENCH_BIN              binary to measure (default target/release/relais; copied first)
#   BENCH_DURATION         seconds per wrk throughput run (default 12)
#   BENCH_CONNECTIONS      wrk connection counts for throughput (default "8 40"; 40 is the number
#                          of simultaneous webhook connections Telegram opens by default)
#   BENCH_THREADS          wrk threads (default 2)
#   BENCH_HEALTHZ_CONNS    connections of the /healthz run (default 32)
#   BENCH_RAW_DURATION     seconds per raw database insert run (default 10)
#   BENCH_RAW_CLIENTS      writer processes / pgbench clients (default "1 4 8")
#   BENCH_RATES            fixed rates tried in turn, messages/s (default "1000 750 500 250")
#   BENCH_FIXED_DURATION   seconds per fixed-rate run (default 15)
#   BENCH_POOL             existing chats in the pool (default 400)
#   BENCH_NEW_PCT          percentage of updates from new chats (default 20)
#   BENCH_PG_URL           database to connect to for CREATE/DROP DATABASE
#                          (default postgres://postgres@127.0.0.1:5432/postgres); BENCH_SKIP_PG=1
#   BENCH_WAIT_IDLE        before each run, wait up to this many seconds for the machine to be
#                          quiet (< 0.15 core busy) (default 0: only record how busy it was)
#   BENCH_OUT              folder for the raw outputs (default: a new /tmp/relais-ingest.XXXXXX)
#   BENCH_SMOKE=1          CI's smoke run: SQLite only, no raw limits and no wrk, a pool of 20
#                          chats and one fixed-rate run (BENCH_RATES, default 100/s, for
#                          BENCH_FIXED_DURATION, default 2 s); fails unless every update answered
#                          200 was stored once (counts only: no figure is judged)
#
# Everything listens on 127.0.0.1 only. On exit the servers are stopped, the PostgreSQL database
# is dropped and the scratch folder is removed; raw outputs and summary.md stay in BENCH_OUT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$REPO/bench
BIN=${BENCH_BIN:-$REPO/target/release/relais}
DURATION=${BENCH_DURATION:-12}
CONNECTIONS=${BENCH_CONNECTIONS:-"8 40"}
THREADS=${BENCH_THREADS:-2}
HEALTHZ_CONNS=${BENCH_HEALTHZ_CONNS:-32}
RAW_DURATION=${BENCH_RAW_DURATION:-10}
RAW_CLIENTS=${BENCH_RAW_CLIENTS:-"1 4 8"}
SMOKE=${BENCH_SMOKE:-0}
if [[ $SMOKE == 1 ]]; then
    RATES=${BENCH_RATES:-100}
    FIXED_DURATION=${BENCH_FIXED_DURATION:-2}
    POOL=${BENCH_POOL:-20}
    CONNECTIONS=""
    RAW_CLIENTS=""
    BENCH_SKIP_PG=1
else
    RATES=${BENCH_RATES:-"1000 750 500 250"}
    FIXED_DURATION=${BENCH_FIXED_DURATION:-15}
    POOL=${BENCH_POOL:-400}
fi
NEW_PCT=${BENCH_NEW_PCT:-20}
PG_ADMIN=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SKIP_PG=${BENCH_SKIP_PG:-0}
WAIT_IDLE=${BENCH_WAIT_IDLE:-0}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/relais-ingest.XXXXXX)}
mkdir -p "$OUT"
SECRET=bench-webhook-secret-$$
P99_AIM_MS=25

for v in $(compgen -e); do
    if [[ $v == RELAIS_* ]]; then unset "$v"; fi
done
for tool in $([[ $SMOKE == 1 ]] || echo wrk) curl python3 nginx; do
    command -v "$tool" >/dev/null || { echo "ingest.sh: $tool is missing" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "ingest.sh: no binary at $BIN (cargo build --release first)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/relais-ingest-work.XXXXXX)
PIDS=()
PG_DB=""
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [[ -n $PG_DB ]]; then
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null && echo "dropped database $PG_DB" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- CPU accounting (as in bench/load.sh) ------------------------------------------------------
TICKS=$(getconf CLK_TCK)
proc_ticks() {
    local t=0 p f
    for p in "$@"; do
        read -ra f < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}
machine_ticks() { awk '/^cpu /{ t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t; exit }' /proc/stat; }
# PostgreSQL's CPU: its processes come and go (pgbench opens its connections during the run), so
# a snapshot lists "pid ticks" for each live process and "reaped N", the CPU of the children
# the postmaster has reaped (cutime + cstime). Between two snapshots: processes alive in both
# count their difference, new ones all their ticks, and those gone are in "reaped" (whole life)
# minus what they had at the first snapshot.
pg_snap() {
    local p f pm
    pm=$(pgrep -u postgres -x postgres -o 2>/dev/null || true)
    for p in $(pgrep -u postgres 2>/dev/null || true); do
        read -ra f < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        echo "$p $((f[11] + f[12]))"
        if [[ $p == "$pm" ]]; then echo "reaped $((f[13] + f[14]))"; fi
    done
}
pg_delta() {
    awk 'NR == FNR { a[$1] = $2; next } { b[$1] = $2 }
        END { for (k in b) d += b[k] - (k in a ? a[k] : 0)
              for (k in a) if (!(k in b)) d -= a[k]
              print d }' "$1" "$2"
}
busy_now() {
    local a b
    read -r a _ < <(machine_ticks); sleep 1; read -r b _ < <(machine_ticks)
    awk -v d=$((b - a)) -v hz="$TICKS" 'BEGIN { printf "%.2f", d / hz }'
}
settle() {
    local waited=0 busy
    busy=$(busy_now)
    while [[ $WAIT_IDLE -gt 0 && $waited -lt $WAIT_IDLE ]] && awk -v b="$busy" 'BEGIN { exit !(b >= 0.15) }'; do
        sleep 4; waited=$((waited + 5)); busy=$(busy_now)
    done
    echo "$busy"
}
pick_port() {
    local p
    for p in $(seq "$1" $(($1 + 200))); do
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return 0; }
    done
    return 1
}
now_s() { date +%s.%N; }
fmt_cores() { awk -v d="$1" -v hz="$TICKS" -v s="$2" 'BEGIN { x = d / hz / s; if (x < 0) x = 0; printf "%.2f", x }'; }

# measure_start / measure_stop bracket one run. SERVER_PIDS, FAKE_PIDS are the processes
# counted apart; the load tool's CPU is the `times` children line of the subshell that ran it.
measure_start() {
    M_BUSY=$(settle)
    pg_snap >"$WORK/pg0"
    M_S0=$(proc_ticks $SERVER_PIDS); M_F0=$(proc_ticks $FAKE_PIDS)
    read -r M_M0 _ < <(machine_ticks)
    M_T0=$(now_s)
}
# measure_stop TIMESFILE -> sets C_SERVER C_PG C_FAKE C_LOAD C_OTHER SECS
measure_stop() {
    local t1 s1 dp f1 m1 load_secs
    t1=$(now_s)
    s1=$(proc_ticks $SERVER_PIDS); pg_snap >"$WORK/pg1"; f1=$(proc_ticks $FAKE_PIDS)
    read -r m1 _ < <(machine_ticks)
    SECS=$(awk -v a="$M_T0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    load_secs=$(sed -n 2p "$1" | awk '
        function sec(x, a) { split(x, a, "m"); sub("s", "", a[2]); return a[1] * 60 + a[2] }
        { printf "%.3f", sec($1) + sec($2) }')
    C_SERVER=$(fmt_cores $((s1 - M_S0)) "$SECS")
    dp=$(pg_delta "$WORK/pg0" "$WORK/pg1")
    C_PG=$(fmt_cores "$dp" "$SECS")
    C_FAKE=$(fmt_cores $((f1 - M_F0)) "$SECS")
    C_LOAD=$(awk -v w="$load_secs" -v s="$SECS" 'BEGIN { printf "%.2f", w / s }')
    C_OTHER=$(awk -v m=$((m1 - M_M0)) -v a=$((s1 - M_S0)) -v b="$dp" -v f=$((f1 - M_F0)) \
        -v w="$load_secs" -v hz="$TICKS" -v s="$SECS" \
        'BEGIN { x = (m - a - b - f) / hz / s - w / s; if (x < 0) x = 0; printf "%.2f", x }')
}

# ---- what the server says ----------------------------------------------------------------------
# metrics BASE -> "webhook_2xx webhook_other messages_in messages_out outbox_depth"
metrics() {
    curl -fsS "$1/metrics" | awk '
        /^relais_http_requests_total\{/ && index($0, "route=\"/webhooks/telegram\"") {
            match($0, /status="[0-9]+"/); s = substr($0, RSTART + 8, 3)
            if (s ~ /^2/) ok += $NF; else other += $NF
        }
        /^relais_messages_in_total\{channel="telegram"\}/ { min = $NF }
        /^relais_messages_out_total\{channel="telegram"\}/ { mout = $NF }
        /^relais_outbox_depth / { depth = $NF }
        END { printf "%d %d %d %d %s\n", ok, other, min, mout, (depth == "" ? "?" : depth) }'
}

RESULTS=$OUT/results.tsv
printf 'backend\tkind\tparam\trate\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tcount\tnon200\tsock_err\tserver_2xx\tserver_other\toutbox_before\toutbox_after\tdelivered_per_s\tcpu_server\tcpu_pg\tcpu_load\tcpu_fake\tcpu_other\tbusy_before\tnote\n' >"$RESULTS"
row() { local IFS=$'\t'; echo "$*" >>"$RESULTS"; }

NEXT_UPDATE=10000000 # each run takes the next 10,000,000 update ids (Telegram's are 32-bit)
TOTAL_OK=0           # webhooks answered 200 by this server (wrk's and the generator's count)

# A webhook run (wrk or fixed): metrics before and after, CPU, one row.
# webhook_run BACKEND KIND PARAM RAWFILE -- command...
webhook_run() {
    local backend=$1 kind=$2 param=$3 raw=$4
    shift 5
    local b0 o0 i0 out0 d0 b1 o1 i1 out1 d1 rc=0
    measure_start
    read -r b0 o0 i0 out0 d0 < <(metrics "$BASE")
    (
        "$@" >>"$raw" 2>&1 || rc=$?
        times >"$WORK/load.times"
        exit "$rc"
    ) || { echo "$kind run failed, see $raw:" >&2; cat "$raw" >&2; exit 1; }
    measure_stop "$WORK/load.times"
    sleep 0.5 # let the server finish (and count) the requests the load tool cut at its end
    read -r b1 o1 i1 out1 d1 < <(metrics "$BASE")
    local line kv
    line=$(grep '^RESULT ' "$raw" | tail -1) || { echo "no RESULT line in $raw" >&2; cat "$raw" >&2; exit 1; }
    for kv in ${line#RESULT }; do declare -g "r_${kv%%=*}=${kv#*=}"; done
    local delivered
    delivered=$(awk -v d=$((out1 - out0)) -v s="$SECS" 'BEGIN { printf "%.1f", d / s }')
    # shellcheck disable=SC2154  # r_* come from the RESULT line
    if [[ $kind == fixed ]]; then
        local note="held ${r_achieved_rps}/s of ${r_target_rate}; p99.9 ${r_p999_ms} ms; statuses ${r_statuses}; service p50/p99 ${r_service_p50_ms}/${r_service_p99_ms} ms; send lag p99 ${r_lag_p99_ms} ms, max ${r_lag_max_ms} ms; ${r_inflight_max} in flight at most, ${r_conns_max} connections"
        row "$backend" fixed "$param" "$r_achieved_rps" "$r_p50_ms" "$r_p90_ms" "$r_p99_ms" "$r_max_ms" "$r_completed" \
            "$r_non200" "$r_errors" $((b1 - b0)) $((o1 - o0)) "$d0" "$d1" "$delivered" \
            "$C_SERVER" "$C_PG" "$C_LOAD" "$C_FAKE" "$C_OTHER" "$M_BUSY" "$note"
        TOTAL_OK=$((TOTAL_OK + r_ok200))
        log "$backend fixed $param/s: held ${r_achieved_rps}/s, p50 ${r_p50_ms} ms, p99 ${r_p99_ms} ms, p99.9 ${r_p999_ms} ms, max ${r_max_ms} ms, non-200 $r_non200, errors $r_errors; outbox $d0 -> $d1; cpu other $C_OTHER"
    else
        local p50 p90 p99 mx errs
        p50=$(awk -v x="$r_p50_us" 'BEGIN { printf "%.2f", x / 1000 }')
        p90=$(awk -v x="$r_p90_us" 'BEGIN { printf "%.2f", x / 1000 }')
        p99=$(awk -v x="$r_p99_us" 'BEGIN { printf "%.2f", x / 1000 }')
        mx=$(awk -v x="$r_max_us" 'BEGIN { printf "%.1f", x / 1000 }')
        errs=$((r_err_connect + r_err_read + r_err_write + r_err_timeout))
        row "$backend" "$kind" "$param" "$r_rps" "$p50" "$p90" "$p99" "$mx" "$r_requests" \
            "$r_non2xx" "$errs" $((b1 - b0)) $((o1 - o0)) "$d0" "$d1" "$delivered" \
            "$C_SERVER" "$C_PG" "$C_LOAD" "$C_FAKE" "$C_OTHER" "$M_BUSY" "-"
        if [[ $kind == ingest ]]; then TOTAL_OK=$((TOTAL_OK + b1 - b0)); fi
        log "$backend $kind c=$param: $r_rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $r_non2xx, socket errors $errs (server: $((b1 - b0)) 2xx, $((o1 - o0)) other); outbox $d0 -> $d1; cpu other $C_OTHER"
    fi
}

# ---- the fake Telegram API: nginx, one worker, a canned sendMessage answer ---------------------
FAKE=$WORK/fake
mkdir -p "$FAKE/tmp"
FAKE_PORT=$(pick_port 18600)
cat >"$FAKE/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $FAKE/nginx.pid;
error_log $FAKE/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $FAKE/tmp/body;
    proxy_temp_path $FAKE/tmp/proxy;
    fastcgi_temp_path $FAKE/tmp/fastcgi;
    uwsgi_temp_path $FAKE/tmp/uwsgi;
    scgi_temp_path $FAKE/tmp/scgi;
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
PIDS+=($!)
FAKE_MASTER=$!
for _ in $(seq 50); do curl -fs -o /dev/null -X POST "http://127.0.0.1:$FAKE_PORT/bot123456:BENCH/SendMessage" && break; sleep 0.1; done
FAKE_PIDS="$FAKE_MASTER $(pgrep -P "$FAKE_MASTER" | tr '\n' ' ')"

# start_relais NAME PORT [DATABASE_URL] -> SERVER_PID, SERVER_DIR, BASE
start_relais() {
    local name=$1 port=$2 url=${3:-}
    SERVER_DIR=$WORK/$name
    mkdir -p "$SERVER_DIR"
    env -C "$SERVER_DIR" RELAIS_BIND="127.0.0.1:$port" RELAIS_DATA_DIR="$SERVER_DIR/var" RELAIS_LOG=warn \
        RELAIS_TELEGRAM_TOKEN=123456:BENCH RELAIS_TELEGRAM_WEBHOOK_SECRET="$SECRET" \
        RELAIS_TELEGRAM_API_URL="http://127.0.0.1:$FAKE_PORT" RELAIS_HELPLINE_HOURS="mon-sun 00:00-24:00" \
        ${url:+RELAIS_DATABASE_URL="$url"} "$WORK/relais" serve >"$OUT/server-$name.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_PIDS=$SERVER_PID
    BASE=http://127.0.0.1:$port
    for _ in $(seq 150); do
        curl -fs "$BASE/healthz" >/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "relais ($name) did not come up; see $OUT/server-$name.log" >&2
    exit 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
EOF

healthz_run() {
    local backend=$1 c=$HEALTHZ_CONNS raw=$OUT/healthz-$1.txt
    printf '$ wrk -t%s -c%s -d%ss --latency -s report.lua %s/healthz\n' "$THREADS" "$c" "$RAW_DURATION" "$BASE" >"$raw"
    # /healthz is not a webhook: its counts come from wrk only
    local rc=0
    measure_start
    (
        wrk -t"$THREADS" -c"$c" -d"${RAW_DURATION}s" --latency -s "$WORK/report.lua" "$BASE/healthz" >>"$raw" 2>&1 || rc=$?
        times >"$WORK/load.times"
        exit "$rc"
    ) || { cat "$raw" >&2; exit 1; }
    measure_stop "$WORK/load.times"
    local line kv
    line=$(grep '^RESULT ' "$raw")
    for kv in ${line#RESULT }; do declare -g "r_${kv%%=*}=${kv#*=}"; done
    row "$backend" healthz "$c" "$r_rps" "$(awk -v x="$r_p50_us" 'BEGIN{printf "%.2f", x/1000}')" \
        "$(awk -v x="$r_p90_us" 'BEGIN{printf "%.2f", x/1000}')" "$(awk -v x="$r_p99_us" 'BEGIN{printf "%.2f", x/1000}')" \
        "$(awk -v x="$r_max_us" 'BEGIN{printf "%.1f", x/1000}')" "$r_requests" "$r_non2xx" \
        $((r_err_connect + r_err_read + r_err_write + r_err_timeout)) - - - - - \
        "$C_SERVER" "$C_PG" "$C_LOAD" "$C_FAKE" "$C_OTHER" "$M_BUSY" "-"
    log "$backend healthz c=$c: $r_rps req/s, p99 $(awk -v x="$r_p99_us" 'BEGIN{printf "%.2f", x/1000}') ms; cpu other $C_OTHER"
}

warm_pool() {
    local backend=$1 raw=$OUT/warm-$1.txt
    python3 "$HERE/ingest_tool.py" warm "$BASE/webhooks/telegram" "$SECRET" --pool "$POOL" --first-update "$NEXT_UPDATE" >"$raw" 2>&1 \
        || { echo "warming the pool failed:" >&2; cat "$raw" >&2; exit 1; }
    NEXT_UPDATE=$((NEXT_UPDATE + 10000000))
    TOTAL_OK=$((TOTAL_OK + POOL))
    log "$backend: pool of $POOL chats warmed ($(tail -1 "$raw"))"
}

ingest_runs() {
    local backend=$1 c rate t held
    # 3. fixed rates, highest first, down to the first one held with p99 under the aim
    for rate in $RATES; do
        local raw=$OUT/fixed-$backend-$rate.txt
        local cmd=(python3 "$HERE/ingest_tool.py" fixed "$BASE/webhooks/telegram" "$SECRET" --rate "$rate"
            --duration "$FIXED_DURATION" --pool "$POOL" --new-pct "$NEW_PCT" --first-update "$NEXT_UPDATE"
            --timeline "$OUT/fixed-$backend-$rate.timeline.tsv")
        printf '$ %s\n' "$(sed "s#$OUT/##" <<<"${cmd[*]/$SECRET/\$SECRET}")" >"$raw"
        webhook_run "$backend" fixed "$rate" "$raw" -- "${cmd[@]}"
        NEXT_UPDATE=$((NEXT_UPDATE + 10000000))
        # shellcheck disable=SC2154
        held=$(awk -v a="$r_achieved_rps" -v t="$rate" -v p="$r_p99_ms" -v n="$r_non200" -v e="$r_errors" -v aim="$P99_AIM_MS" \
            'BEGIN { print (a >= 0.95 * t && p < aim && n == 0 && e == 0) ? 1 : 0 }')
        if [[ $held == 1 ]]; then break; fi
    done
    # 4. closed-loop throughput
    for c in $CONNECTIONS; do
        t=$THREADS
        if ((c < t)); then t=$c; fi
        local raw=$OUT/ingest-$backend-c$c.txt
        printf '$ wrk -t%s -c%s -d%ss --latency -s ingest.lua %s/webhooks/telegram -- $SECRET %s %s %s\n' \
            "$t" "$c" "$DURATION" "$BASE" "$NEXT_UPDATE" "$POOL" "$NEW_PCT" >"$raw"
        webhook_run "$backend" ingest "$c" "$raw" -- \
            wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$HERE/ingest.lua" "$BASE/webhooks/telegram" \
            -- "$SECRET" "$NEXT_UPDATE" "$POOL" "$NEW_PCT"
        NEXT_UPDATE=$((NEXT_UPDATE + 10000000))
    done
}

# After the runs: outbox by status, and whether every update answered 200 was stored once.
check_db() {
    local backend=$1 sql_counts="SELECT (SELECT count(*) FROM inbound_receipts WHERE channel = 'telegram'),
        (SELECT count(*) FROM messages WHERE direction = 'in'),
        (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations),
        (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')),
        (SELECT count(*) FROM outbox WHERE status = 'sent'), (SELECT count(*) FROM outbox WHERE status = 'failed')"
    local counts
    if [[ $backend == sqlite ]]; then
        counts=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(" ".join(str(x) for x in c.execute(sys.argv[2]).fetchone()))' "$SERVER_DIR/var/relais.sqlite3" "$sql_counts")
    else
        counts=$(psql "$PG_URL" -qAt -F' ' -c "$sql_counts")
    fi
    local receipts msgs contacts convs pending sent failed
    read -r receipts msgs contacts convs pending sent failed <<<"$counts"
    local warns
    warns=$(grep -ciE 'warn|error' "$OUT/server-$backend.log" || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$TOTAL_OK" "$receipts" "$msgs" \
        $((receipts - TOTAL_OK)) "$contacts" "$convs" "$pending" "$sent" "$failed" "$warns" "$FILES_MB" >>"$OUT/db-check.tsv"
    log "$backend: answered 200 $TOTAL_OK; in the database: $receipts receipts, $msgs inbound messages, $contacts contacts, $convs conversations; outbox $pending unsent, $sent sent, $failed failed; $warns warning/error lines in the server log; database / WAL: $FILES_MB MB"
}

# ---------------------------------------------------------------------------------------------
cp "$BIN" "$WORK/relais"
COMMIT=$(git -C "$REPO" log -1 --format='%h, committed %ci' 2>/dev/null || echo unknown)
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
printf 'backend\tanswered_200\treceipts\tinbound_messages\tstored_minus_answered\tcontacts\tconversations\toutbox_unsent\toutbox_sent\toutbox_failed\tlog_warnings\tdb_wal_mb\n' >"$OUT/db-check.tsv"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $COMMIT ($DIRTY tracked files modified in the work tree)"
    echo "binary: $BIN, built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$BIN" | cut -c1-16)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, hypervisor: $(lscpu | sed -n 's/^Hypervisor vendor: *//p')"
    echo "memory: $(free -g | awk '/^Mem:/ { print $2 }') GiB; kernel $(uname -r); disk of $WORK: $(df --output=source "$WORK" | tail -1)"
    echo "tools: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); nginx $(nginx -v 2>&1 | cut -d/ -f2); $(python3 --version); sqlite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's, for the raw rate)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); cores busy over the second before start: $(busy_now) (of $(nproc))"
    echo "settings: throughput ${DURATION}s at c=$CONNECTIONS (wrk -t$THREADS); fixed ${FIXED_DURATION}s at $RATES/s (first held); raw ${RAW_DURATION}s x clients $RAW_CLIENTS; pool $POOL chats, $NEW_PCT % new chats; wait idle ${WAIT_IDLE}s"
} | tee "$OUT/machine.txt" >&2

# ---- SQLite --------------------------------------------------------------------------------------
start_relais sqlite "$(pick_port 18700)"
[[ $SMOKE == 1 ]] || healthz_run sqlite
for n in $RAW_CLIENTS; do
    raw=$OUT/raw-sqlite-$n.txt
    rm -f "$WORK/raw.sqlite3"*
    printf '$ python3 ingest_tool.py sqlite-insert %s --procs %s --duration %s\n' "$WORK/raw.sqlite3" "$n" "$RAW_DURATION" >"$raw"
    measure_start
    (
        rc=0
        python3 "$HERE/ingest_tool.py" sqlite-insert "$WORK/raw.sqlite3" --procs "$n" --duration "$RAW_DURATION" >>"$raw" 2>&1 || rc=$?
        times >"$WORK/load.times"
        exit "$rc"
    ) || { cat "$raw" >&2; exit 1; }
    measure_stop "$WORK/load.times"
    line=$(grep '^RESULT ' "$raw")
    for kv in ${line#RESULT }; do declare "r_${kv%%=*}=${kv#*=}"; done
    row sqlite raw-insert "$n" "$r_rate" "$r_p50_ms" - "$r_p99_ms" "$r_max_ms" "$r_commits" - - - - - - - \
        "$C_SERVER" "$C_PG" "$C_LOAD" "$C_FAKE" "$C_OTHER" "$M_BUSY" "-"
    log "sqlite raw insert+commit, $n process(es): $r_rate/s (p99 $r_p99_ms ms); cpu other $C_OTHER"
done
rm -f "$WORK/raw.sqlite3"*
warm_pool sqlite
ingest_runs sqlite
# the server's own view: time per ingestion stage, group commits, WAL size
curl -fs "$BASE/metrics" >"$OUT/metrics-sqlite.txt" || true
# the WAL is checkpointed and removed when the server closes the database: its size is read first
FILES_MB=$(stat -c %s "$SERVER_DIR/var/relais.sqlite3" "$SERVER_DIR/var/relais.sqlite3-wal" 2>/dev/null \
    | awk '{ printf "%s%.0f", (NR > 1 ? " / " : ""), $1 / 1048576 }')
stop_pid "$SERVER_PID"
check_db sqlite
if [[ $SMOKE == 1 ]]; then
    IFS=$'\t' read -r _ answered receipts inbound _ <<<"$(tail -1 "$OUT/db-check.tsv")"
    if [[ $answered -gt 0 && $answered == "$receipts" && $answered == "$inbound" ]]; then
        log "smoke: $answered updates answered 200, each stored once"
        exit 0
    fi
    echo "smoke: answered 200 $answered, receipts $receipts, inbound messages $inbound: not each stored once" >&2
    exit 1
fi

# ---- PostgreSQL ----------------------------------------------------------------------------------
if [[ $SKIP_PG != 1 ]] && command -v psql >/dev/null && command -v pgbench >/dev/null \
    && psql "$PG_ADMIN" -qAtc 'select 1' >/dev/null 2>&1; then
    PG_DB=relais_ingest_$(date +%s)_$$
    psql "$PG_ADMIN" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
    PG_URL=${PG_ADMIN%/*}/$PG_DB
    echo "postgresql: $(psql "$PG_ADMIN" -qAtc 'show server_version'); $(psql "$PG_ADMIN" -qAtc "select string_agg(name || '=' || setting, ', ' order by name) from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers', 'autovacuum')"); database $PG_DB (dropped at exit)" \
        | tee -a "$OUT/machine.txt" >&2
    TOTAL_OK=0
    start_relais postgres "$(pick_port 18800)" "$PG_URL"
    healthz_run postgres
    psql "$PG_URL" -v ON_ERROR_STOP=1 -qc 'CREATE TABLE raw_insert (id bigserial PRIMARY KEY, body bytea NOT NULL, at timestamptz NOT NULL)'
    echo "INSERT INTO raw_insert (body, at) VALUES (decode(repeat('ab', 120), 'hex'), now());" >"$WORK/insert.sql"
    for n in $RAW_CLIENTS; do
        raw=$OUT/raw-postgres-$n.txt
        j=$((n < 2 ? 1 : 2))
        rm -rf "$WORK/pglog" && mkdir -p "$WORK/pglog"
        printf '$ pgbench -n -f insert.sql -c %s -j %s -T %s -l --log-prefix=pglog/tx %s\n$ cat insert.sql\n%s\n' \
            "$n" "$j" "$RAW_DURATION" "$PG_URL" "$(cat "$WORK/insert.sql")" >"$raw"
        measure_start
        (
            rc=0
            pgbench -n -f "$WORK/insert.sql" -c "$n" -j "$j" -T "$RAW_DURATION" -l --log-prefix="$WORK/pglog/tx" "$PG_URL" >>"$raw" 2>&1 || rc=$?
            times >"$WORK/load.times"
            exit "$rc"
        ) || { cat "$raw" >&2; exit 1; }
        measure_stop "$WORK/load.times"
        tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$raw" | head -1)
        failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$raw" | head -1)
        # per-transaction log: client tx_no latency_us script_no epoch us
        read -r cnt p50 p99 mx < <(cat "$WORK"/pglog/tx* | awk '{ print $3 / 1000 }' | sort -n | awk '
            { v[NR] = $1 } END { printf "%d %.3f %.3f %.1f\n", NR, v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)], v[NR] }')
        row postgres raw-insert "$n" "$tps" "$p50" - "$p99" "$mx" "$cnt" "${failed:-0}" - - - - - - \
            "$C_SERVER" "$C_PG" "$C_LOAD" "$C_FAKE" "$C_OTHER" "$M_BUSY" "-"
        log "postgres raw insert+commit (pgbench), $n client(s): $tps tps (p99 $p99 ms); cpu other $C_OTHER"
    done
    psql "$PG_URL" -qc 'DROP TABLE raw_insert'
    warm_pool postgres
    ingest_runs postgres
    curl -fs "$BASE/metrics" >"$OUT/metrics-postgres.txt" || true
    FILES_MB="$(psql "$PG_URL" -qAtc 'select round(pg_database_size(current_database()) / 1048576.0)') / -"
    stop_pid "$SERVER_PID"
    check_db postgres
else
    log "PostgreSQL not reachable at $PG_ADMIN (or pgbench missing, or BENCH_SKIP_PG=1): PostgreSQL rows skipped"
fi

# ---- summary ---------------------------------------------------------------------------------
{
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
    echo '```'
    cat "$OUT/machine.txt"
    echo '```'
    echo
    echo "| backend | run | conns / rate / clients | per s | p50 ms | p90 ms | p99 ms | max ms | count | non-200 | socket errors | server 2xx / other | outbox before → after | delivered/s | CPU server | CPU postgres | CPU load tool | CPU fake API | CPU other | busy before |"
    echo "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    tail -n +2 "$RESULTS" | awk -F'\t' '{
        printf "| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s → %s | %s | %s | %s | %s | %s | %s | %s |\n",
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22 }'
    echo
    echo "Fixed-rate runs:"
    echo
    tail -n +2 "$RESULTS" | awk -F'\t' '$2 == "fixed" { printf "- %s, %s/s: %s\n", $1, $3, $23 }'
    echo
    echo "| backend | answered 200 | receipts | inbound messages | stored − answered | contacts | conversations | outbox unsent | sent | failed | server log warnings | database / WAL MB |"
    echo "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    tail -n +2 "$OUT/db-check.tsv" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }'
    echo
    echo "raw outputs: $OUT"
} | tee "$OUT/summary.md"
