#!/usr/bin/env bash
# Load benchmark of the release binary over loopback, with wrk. Reproduces the figures in
# docs/benchmarks.md (what they mean is written there).
#
#   bash bench/load.sh                        # about 4.5 minutes; needs no cargo
#
# Needs: wrk, curl, jq, lscpu (Debian: apt-get install -y wrk curl jq util-linux), psql and a
# PostgreSQL server for the PostgreSQL rows, nginx (nginx-light) for the non-Relais baseline.
# Missing nginx or PostgreSQL skips those rows and says so; a missing wrk, curl or jq stops.
#
# Knobs (environment):
#   BENCH_BIN           binary to measure (default: target/release/relais; it is copied first,
#                       so a rebuild during the run does not change what is measured)
#   BENCH_DURATION      seconds per wrk run (default 12)
#   BENCH_CONNECTIONS   wrk connection counts (default "16 64")
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_LOGINS        sequential logins timed with curl (default 50)
#   BENCH_PG_URL        an existing database to connect to for CREATE/DROP DATABASE
#                       (default postgres://postgres@127.0.0.1:5432/postgres); BENCH_SKIP_PG=1 skips
#   BENCH_WAIT_IDLE     before each run, wait up to this many seconds for the machine to be quiet
#                       (< 0.15 core busy) (default 0: do not wait, only record how busy it was)
#   BENCH_OUT           folder for the raw outputs (default: a new /tmp/relais-bench.XXXXXX; kept)
#
# Everything listens on 127.0.0.1 only. On exit (normal, error or Ctrl-C) the servers are stopped,
# the PostgreSQL database is dropped and the scratch folder is removed; raw outputs stay in
# BENCH_OUT. The markdown tables are printed at the end and written to BENCH_OUT/summary.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BENCH_BIN:-$REPO/target/release/relais}
DURATION=${BENCH_DURATION:-12}
CONNECTIONS=${BENCH_CONNECTIONS:-"16 64"}
THREADS=${BENCH_THREADS:-2}
LOGINS=${BENCH_LOGINS:-50}
PG_ADMIN=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SKIP_PG=${BENCH_SKIP_PG:-0}
WAIT_IDLE=${BENCH_WAIT_IDLE:-0}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/relais-bench.XXXXXX)}
mkdir -p "$OUT"

# The caller's RELAIS_* settings must not leak into the measured servers.
for v in $(compgen -e); do
    if [[ $v == RELAIS_* ]]; then unset "$v"; fi
done

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || { echo "load.sh: $tool is missing (apt-get install -y $tool)" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "load.sh: no binary at $BIN (cargo build --release first)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/relais-bench-work.XXXXXX)
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

TICKS=$(getconf CLK_TCK)
# CPU ticks (user + system, all threads) of the given processes.
proc_ticks() {
    local t=0 p f
    for p in "$@"; do
        read -ra f < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        # after the command name: field 12 is utime, 13 is stime (14 and 15 of proc(5))
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}
# Busy and total ticks of the whole machine, from /proc/stat.
machine_ticks() { awk '/^cpu /{ t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t; exit }' /proc/stat; }
pg_pids() { pgrep -u postgres 2>/dev/null | tr '\n' ' ' || true; }
# Cores busy over one second (everything on the machine).
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

# wrk reports through this Lua hook: one machine-readable line at the end (no per-response
# hook, which would slow wrk down). errors.status counts responses with a status >= 400.
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

RESULTS=$OUT/results.tsv
printf 'target\tbackend\tconns\trps\tp50_us\tp90_us\tp99_us\tmax_us\trequests\tnon2xx\tsock_err\tserver_2xx\tserver_other\tcpu_server\tcpu_pg\tcpu_wrk\tcpu_other\tbusy_before\n' >"$RESULTS"

# Requests counted by the server's /metrics for a route: "<2xx> <other>".
route_counts() {
    [[ -z $2 ]] && { echo "- -"; return; }
    curl -fsS "$1/metrics" | awk -v r="route=\"$2\"" '
        /^relais_http_requests_total\{/ && index($0, r) {
            match($0, /status="[0-9]+"/); s = substr($0, RSTART + 8, 3)
            if (s ~ /^2/) ok += $NF; else other += $NF
        }
        END { printf "%d %d\n", ok, other }'
}

# run_wrk TARGET BACKEND CONNS URL ROUTE "SERVER_PIDS" [wrk args...]
# (ROUTE: the route label in /metrics, empty for nginx; WRK_SCRIPT: the Lua script to use)
WRK_SCRIPT=$WORK/report.lua
# shellcheck disable=SC2154  # the r_* variables are declared from wrk's RESULT line
run_wrk() {
    local target=$1 backend=$2 c=$3 url=$4 route=$5 spid=$6
    shift 6
    local t=$THREADS base
    base=$(sed -E 's#^(http://[^/]+).*#\1#' <<<"$url")
    if ((c < t)); then t=$c; fi
    local busy ok0 other0 ok1 other1 s0 s1 p0 p1 m0 m1 pgp raw
    busy=$(settle)
    pgp=$(pg_pids)
    if [[ -n $route ]]; then read -r ok0 other0 < <(route_counts "$base" "$route"); fi
    s0=$(proc_ticks $spid); p0=$(proc_ticks $pgp); read -r m0 _ < <(machine_ticks)
    raw=$OUT/wrk-$target-$backend-c$c.txt
    printf '$ wrk -t%s -c%s -d%ss --latency -s %s %s %s\n' "$t" "$c" "$DURATION" "${WRK_SCRIPT##*/}" "${*@Q}" "$url" \
        | sed -E "s/'(Authorization: Bearer )[A-Za-z0-9._-]+'/\"\\1\$TOKEN\"/" >"$raw"
    # in a subshell, so that `times` gives wrk's own CPU time (its children's line)
    (
        rc=0
        wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$WRK_SCRIPT" "$@" "$url" >>"$raw" 2>&1 || rc=$?
        times >"$WORK/wrk.times"
        exit "$rc"
    ) || { echo "wrk failed, see $raw:" >&2; cat "$raw" >&2; exit 1; }
    s1=$(proc_ticks $spid); p1=$(proc_ticks $pgp); read -r m1 _ < <(machine_ticks)
    if [[ -n $route ]]; then read -r ok1 other1 < <(route_counts "$base" "$route"); fi
    local line
    line=$(grep '^RESULT ' "$raw") || { echo "wrk printed no result, see $raw:" >&2; cat "$raw" >&2; exit 1; }
    local kv
    for kv in ${line#RESULT }; do declare "r_${kv%%=*}=${kv#*=}"; done
    local secs=$r_seconds
    local cpu_s cpu_p cpu_w cpu_rest wrk_secs
    wrk_secs=$(sed -n 2p "$WORK/wrk.times" | awk '
        function sec(x, a) { split(x, a, "m"); sub("s", "", a[2]); return a[1] * 60 + a[2] }
        { printf "%.3f", sec($1) + sec($2) }')
    cpu_s=$(awk -v d=$((s1 - s0)) -v hz="$TICKS" -v s="$secs" 'BEGIN { printf "%.2f", d / hz / s }')
    # (a backend that exits during the run takes its ticks with it: clamp at 0)
    cpu_p=$(awk -v d=$((p1 - p0)) -v hz="$TICKS" -v s="$secs" 'BEGIN { x = d / hz / s; if (x < 0) x = 0; printf "%.2f", x }')
    cpu_w=$(awk -v w="$wrk_secs" -v s="$secs" 'BEGIN { printf "%.2f", w / s }')
    cpu_rest=$(awk -v m=$((m1 - m0)) -v a=$((s1 - s0)) -v b=$((p1 - p0)) -v w="$wrk_secs" -v hz="$TICKS" -v s="$secs" \
        'BEGIN { x = (m - a - b) / hz / s - w / s; if (x < 0) x = 0; printf "%.2f", x }')
    local sok="-" sother="-"
    if [[ -n $route ]]; then sok=$((ok1 - ok0)); sother=$((other1 - other0)); fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$target" "$backend" "$c" "$r_rps" "$r_p50_us" "$r_p90_us" "$r_p99_us" "$r_max_us" "$r_requests" \
        "$r_non2xx" $((r_err_connect + r_err_read + r_err_write + r_err_timeout)) "$sok" "$sother" \
        "$cpu_s" "$cpu_p" "$cpu_w" "$cpu_rest" "$busy" >>"$RESULTS"
    log "$target $backend c=$c: $r_rps req/s, p50 ${r_p50_us}us p99 ${r_p99_us}us, non-2xx $r_non2xx (server: $sok ok, $sother other)"
}

# start_relais NAME PORT [DATABASE_URL]  -> sets SERVER_PID, SERVER_DIR
start_relais() {
    local name=$1 port=$2 url=${3:-}
    SERVER_DIR=$WORK/$name
    mkdir -p "$SERVER_DIR"
    env -C "$SERVER_DIR" RELAIS_BIND="127.0.0.1:$port" RELAIS_DATA_DIR="$SERVER_DIR/var" RELAIS_LOG=warn \
        RELAIS_RATE_LIMIT_GUESS_PER_MINUTE=1000000 RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE=1000000 \
        ${url:+RELAIS_DATABASE_URL="$url"} "$WORK/relais" serve >"$OUT/server-$name.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 150); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "relais ($name) did not come up; see $OUT/server-$name.log" >&2
    exit 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# admin credentials as a JSON login body, from `relais demo` with the server's environment
demo_login_body() {
    local name=$1 url=${2:-}
    env -C "$SERVER_DIR" RELAIS_DATA_DIR="$SERVER_DIR/var" RELAIS_LOG=warn ${url:+RELAIS_DATABASE_URL="$url"} \
        "$WORK/relais" demo >"$OUT/demo-$name.txt"
    awk -F'\t' '$1 == "admin" { print $3 "\t" $4; exit }' "$OUT/demo-$name.txt" \
        | jq -Rc 'split("\t") | {email: .[0], password: .[1]}'
}
token() { curl -fsS -H 'content-type: application/json' -d "$2" "$1/v1/auth/login" | jq -er .access_token; }
# one request before a run: it must answer 200
precheck() {
    local code
    code=$(curl -s -o "$OUT/precheck.body" -w '%{http_code}' "$@")
    [[ $code == 200 ]] || { echo "precheck $* answered $code:" >&2; cat "$OUT/precheck.body" >&2; exit 1; }
}

# login_bench BACKEND BASE BODY PID
login_bench() {
    local backend=$1 base=$2 body=$3 spid=$4
    local seq=$OUT/login-sequential-$backend.txt
    : >"$seq"
    for _ in $(seq "$LOGINS"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'content-type: application/json' \
            -d "$body" "$base/v1/auth/login" >>"$seq"
    done
    local non200 stats
    non200=$(awk '$1 != 200' "$seq" | wc -l)
    stats=$(awk '{ print $2 * 1000 }' "$seq" | sort -n | awk '
        { v[NR] = $1; s += $1 }
        END { i50 = int((NR + 1) / 2); i95 = int(NR * 0.95 + 0.999)
              printf "%.1f %.1f %.1f %.1f %.1f", v[i50], v[i95], v[1], v[NR], 1000 * NR / s }')
    local med p95 min max perS
    read -r med p95 min max perS <<<"$stats"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$LOGINS" "$med" "$p95" "$min" "$max" "$perS" "$non200" \
        >>"$OUT/login-sequential.tsv"
    log "login $backend sequential x$LOGINS: median ${med} ms, p95 ${p95} ms, ${perS}/s, non-200: $non200"
    {
        echo "wrk.method = 'POST'"
        echo "wrk.headers['Content-Type'] = 'application/json'"
        echo "wrk.body = '$body'"
        cat "$WORK/report.lua"
    } >"$WORK/login.lua"
    WRK_SCRIPT=$WORK/login.lua
    run_wrk login "$backend" 2 "$base/v1/auth/login" /v1/auth/login "$spid"
    WRK_SCRIPT=$WORK/report.lua
}

# ---------------------------------------------------------------------------------------------
cp "$BIN" "$WORK/relais"
COMMIT=$(git -C "$REPO" log -1 --format='%h, committed %ci' 2>/dev/null || echo unknown)
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $COMMIT ($DIRTY tracked files modified in the work tree)"
    echo "binary: $BIN, built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$BIN" | cut -c1-16)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core, hypervisor: $(lscpu | sed -n 's/^Hypervisor vendor: *//p')"
    echo "memory: $(free -g | awk '/^Mem:/ { print $2 }') GiB; kernel $(uname -r)"
    echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); nginx: $(if command -v nginx >/dev/null; then nginx -v 2>&1 | cut -d/ -f2; else echo none; fi)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "cores busy over the second before start: $(busy_now) (of $(nproc))"
    echo "settings: ${DURATION}s per run, connections: $CONNECTIONS, wrk threads: $THREADS, sequential logins: $LOGINS"
} | tee "$OUT/machine.txt" >&2

# ---- 1. raw limits: nginx serving a 15-byte static file ------------------------------------------
if command -v nginx >/dev/null; then
    NGX=$WORK/nginx
    mkdir -p "$NGX/www" "$NGX/tmp"
    chmod 755 "$WORK" "$NGX" "$NGX/www"
    printf '{"status":"ok"}' >"$NGX/www/healthz"
    NGX_PORT=$(pick_port 18300)
    cat >"$NGX/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT;
        root $NGX/www;
        default_type application/json;
    }
}
EOF
    nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" &
    NGX_PID=$!
    PIDS+=("$NGX_PID")
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:$NGX_PORT/healthz" >/dev/null && break; sleep 0.1; done
    precheck "http://127.0.0.1:$NGX_PORT/healthz"
    # nginx's master does no request work; its workers are its children
    for c in $CONNECTIONS; do
        run_wrk nginx-static static "$c" "http://127.0.0.1:$NGX_PORT/healthz" "" "$(pgrep -P "$NGX_PID" | tr '\n' ' ')"
    done
    stop_pid "$NGX_PID"
else
    log "nginx not installed: no non-Relais baseline (apt-get install -y nginx-light)"
fi

# ---- 2-5. Relais on SQLite -------------------------------------------------------------------
PORT=$(pick_port 18400)
BASE=http://127.0.0.1:$PORT
start_relais sqlite "$PORT"
BODY=$(demo_login_body sqlite)
for c in $CONNECTIONS; do
    run_wrk healthz sqlite "$c" "$BASE/healthz" /healthz "$SERVER_PID"
done
precheck "$BASE/v1/geo/postal-codes/75011"
for c in $CONNECTIONS; do
    run_wrk geo-75011 sqlite "$c" "$BASE/v1/geo/postal-codes/75011" "/v1/geo/postal-codes/{code}" "$SERVER_PID"
done
for c in $CONNECTIONS; do
    TOKEN=$(token "$BASE" "$BODY")
    precheck -H "Authorization: Bearer $TOKEN" "$BASE/v1/me"
    run_wrk me sqlite "$c" "$BASE/v1/me" /v1/me "$SERVER_PID" -H "Authorization: Bearer $TOKEN"
done
for c in $CONNECTIONS; do
    TOKEN=$(token "$BASE" "$BODY")
    precheck -H "Authorization: Bearer $TOKEN" "$BASE/v1/organisations"
    run_wrk organisations sqlite "$c" "$BASE/v1/organisations" /v1/organisations "$SERVER_PID" -H "Authorization: Bearer $TOKEN"
done
login_bench sqlite "$BASE" "$BODY" "$SERVER_PID"
stop_pid "$SERVER_PID"

# ---- 3-5. Relais on PostgreSQL ---------------------------------------------------------------
if [[ $SKIP_PG != 1 ]] && command -v psql >/dev/null && psql "$PG_ADMIN" -qAtc 'select 1' >/dev/null 2>&1; then
    PG_DB=relais_bench_$(date +%s)_$$
    psql "$PG_ADMIN" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
    PG_URL=${PG_ADMIN%/*}/$PG_DB
    echo "postgresql: $(psql "$PG_ADMIN" -qAtc 'show server_version'), database $PG_DB (dropped at exit)" \
        | tee -a "$OUT/machine.txt" >&2
    PORT=$(pick_port 18500)
    BASE=http://127.0.0.1:$PORT
    start_relais postgres "$PORT" "$PG_URL"
    BODY=$(demo_login_body postgres "$PG_URL")
    for c in $CONNECTIONS; do
        TOKEN=$(token "$BASE" "$BODY")
        precheck -H "Authorization: Bearer $TOKEN" "$BASE/v1/me"
        run_wrk me postgres "$c" "$BASE/v1/me" /v1/me "$SERVER_PID" -H "Authorization: Bearer $TOKEN"
    done
    for c in $CONNECTIONS; do
        TOKEN=$(token "$BASE" "$BODY")
        precheck -H "Authorization: Bearer $TOKEN" "$BASE/v1/organisations"
        run_wrk organisations postgres "$c" "$BASE/v1/organisations" /v1/organisations "$SERVER_PID" -H "Authorization: Bearer $TOKEN"
    done
    login_bench postgres "$BASE" "$BODY" "$SERVER_PID"
    stop_pid "$SERVER_PID"
else
    log "PostgreSQL not reachable at $PG_ADMIN (or BENCH_SKIP_PG=1): PostgreSQL rows skipped"
fi

# ---- summary ---------------------------------------------------------------------------------
{
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
    echo '```'
    cat "$OUT/machine.txt"
    echo '```'
    echo
    echo "| target | backend | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx (wrk) | socket errors | server 2xx / other | CPU server | CPU postgres | CPU wrk | CPU other | busy before |"
    echo "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    tail -n +2 "$RESULTS" | awk -F'\t' '{
        printf "| %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %.1f | %s | %s | %s / %s | %s | %s | %s | %s | %s |\n",
            $1, $2, $3, $4, $5 / 1000, $6 / 1000, $7 / 1000, $8 / 1000, $10, $11, $12, $13, $14, $15, $16, $17, $18 }'
    if [[ -f $OUT/login-sequential.tsv ]]; then
        echo
        echo "| sequential logins | count | median ms | p95 ms | min ms | max ms | logins/s | non-200 |"
        echo "| --- | --: | --: | --: | --: | --: | --: | --: |"
        awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' \
            "$OUT/login-sequential.tsv"
    fi
    echo
    echo "raw outputs: $OUT"
} | tee "$OUT/summary.md"
