#!/usr/bin/env bash
# Soak benchmark (issue 18): two instances on one PostgreSQL database and one Redis, Telegram
# webhooks at a steady rate spread over both, for a long time; every minute it samples each
# instance's resident memory, open file descriptors, the database's connections and the outbox,
# and at the end checks that every acknowledged update was stored once. A benchmark, not a CI
# step: the figures go in docs/benchmarks.md.
#
#   bash bench/soak.sh                          # 30 minutes at 50 messages/s
#   SOAK_MINUTES=5 bash bench/soak.sh           # a short run
#
# What it does not do yet (issue 18 asks for it): listeners replying through the API,
# reminders firing and housing requests flowing during the soak. The load is inbound webhooks
# and the bot's replies through the outbox to a fake Telegram API.
#
# Verdict printed at the end: resident memory of each instance at the end against its value
# after the first five minutes (flat = growth under 10 %), file descriptors and database
# connections likewise, and the count of acknowledged updates not stored (must be 0).
#
# Needs: python3 (standard library), curl, psql, a PostgreSQL server and a Redis server (the
# script starts its own redis-server on a free port when SOAK_REDIS_URL is not given).
#
# Knobs (environment):
#   SOAK_BIN        binary (default target/release/relais; build it with cargo build --release)
#   SOAK_MINUTES    duration (default 30)
#   SOAK_RATE       webhooks per second, both instances together (default 50)
#   SOAK_CHATS      distinct chats the updates come from (default 2000)
#   SOAK_PG_URL     admin URL for CREATE/DROP DATABASE (default postgres://postgres@127.0.0.1:5432/postgres)
#   SOAK_REDIS_URL  an existing Redis (default: one started here, stopped at exit)
#   SOAK_OUT        folder for the samples (default a new /tmp/relais-soak.XXXXXX)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${SOAK_BIN:-$REPO/target/release/relais}
MINUTES=${SOAK_MINUTES:-30}
RATE=${SOAK_RATE:-50}
CHATS=${SOAK_CHATS:-2000}
PG_ADMIN=${SOAK_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${SOAK_OUT:-$(mktemp -d /tmp/relais-soak.XXXXXX)}
mkdir -p "$OUT"
SECRET=soak-webhook-secret
DB=relais_soak_$$
DB_URL=${PG_ADMIN%/*}/$DB

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 1; }
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB" >/dev/null

if [ -z "${SOAK_REDIS_URL:-}" ]; then
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 &
    PIDS+=($!)
    SOAK_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
fi

# A fake Telegram Bot API: every call succeeds; sendMessage answers a message.
FAKE_PORT=$(free_port)
python3 - "$FAKE_PORT" >"$OUT/fake.log" 2>&1 <<'PY' &
import json, sys, time, itertools
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
ids = itertools.count(1)
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.endswith("/getMe"):
            result = {"id": 42, "is_bot": True, "first_name": "Relais", "username": "soak_bot"}
        elif self.path.endswith("/sendMessage"):
            try:
                chat = json.loads(body or b"{}").get("chat_id", 0)
            except ValueError:
                chat = 0
            result = {"message_id": next(ids), "date": int(time.time()), "chat": {"id": chat, "type": "private"}, "text": "ok"}
        else:
            result = True
        data = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    do_GET = do_POST
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PIDS+=($!)

DATA=$OUT/data
mkdir -p "$DATA"
KEYS=(RELAIS_JWT_KEY RELAIS_HMAC_PEPPER RELAIS_FIELD_KEY)
declare -A KEY
for k in "${KEYS[@]}"; do KEY[$k]=$(head -c 48 /dev/urandom | base64 -w0); done

PORTS=()
INSTANCE_PIDS=()
for i in 1 2; do
    port=$(free_port)
    env -i PATH="$PATH" RELAIS_LOG=warn RELAIS_BIND=127.0.0.1:$port RELAIS_DATA_DIR="$DATA/$i" \
        RELAIS_DATABASE_URL="$DB_URL" RELAIS_REDIS_URL="$SOAK_REDIS_URL" \
        RELAIS_JWT_KEY="${KEY[RELAIS_JWT_KEY]}" RELAIS_HMAC_PEPPER="${KEY[RELAIS_HMAC_PEPPER]}" \
        RELAIS_FIELD_KEY="${KEY[RELAIS_FIELD_KEY]}" \
        RELAIS_TELEGRAM_TOKEN=123456:SOAK RELAIS_TELEGRAM_API_URL=http://127.0.0.1:$FAKE_PORT \
        RELAIS_TELEGRAM_WEBHOOK_SECRET=$SECRET RELAIS_HELPLINE_HOURS="mon-sun 00:00-24:00" \
        RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE=1000000 RELAIS_RATE_LIMIT_GUESS_PER_MINUTE=1000000 \
        "$BIN" serve >"$OUT/instance-$i.log" 2>&1 &
    INSTANCE_PIDS+=($!)
    PIDS+=($!)
    PORTS+=("$port")
    for _ in $(seq 1 200); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.1
    done
done
echo "instances on ${PORTS[*]}, database $DB, redis $SOAK_REDIS_URL, samples in $OUT"

# The load: webhooks at a fixed rate, alternately to each instance; acknowledged ids to a file.
python3 - "$RATE" "$((MINUTES * 60))" "$CHATS" "$SECRET" "$OUT/acknowledged.txt" "${PORTS[@]}" <<'PY' &
import json, sys, time, threading, http.client, itertools, queue
rate, seconds, chats, secret, out = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ports = [int(p) for p in sys.argv[6:]]
jobs = queue.Queue(maxsize=1000)
acked = open(out, "w")
lock = threading.Lock()
def worker():
    conns = {}
    while True:
        job = jobs.get()
        if job is None:
            return
        update_id, port = job
        body = json.dumps({"update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()),
            "chat": {"id": 5_000_000 + update_id % chats, "type": "private", "first_name": "S"},
            "from": {"id": 5_000_000 + update_id % chats, "is_bot": False, "first_name": "S"},
            "text": "Bonjour"}})
        try:
            c = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conns[port] = c
            c.request("POST", "/webhooks/telegram", body, {"content-type": "application/json",
                      "X-Telegram-Bot-Api-Secret-Token": secret})
            r = c.getresponse(); r.read()
            if r.status == 200:
                with lock:
                    acked.write(f"{update_id}\n")
        except Exception:
            conns.pop(port, None)
threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
for t in threads: t.start()
start = time.time()
for n in itertools.count(1):
    due = start + n / rate
    if due - start > seconds:
        break
    time.sleep(max(0.0, due - time.time()))
    jobs.put((n, ports[n % len(ports)]))
for _ in threads: jobs.put(None)
for t in threads: t.join()
acked.close()
PY
LOAD=$!
PIDS+=($LOAD)

# Samples every minute: minute, instance, RSS kB, fds, database connections, outbox depth.
printf 'minute\tinstance\trss_kb\tfds\tdb_connections\toutbox_depth\n' >"$OUT/samples.tsv"
for minute in $(seq 0 "$MINUTES"); do
    conns=$(psql "$PG_ADMIN" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'")
    depth=$(curl -fs "http://127.0.0.1:${PORTS[0]}/metrics" | awk '/^relais_outbox_depth /{print $2}')
    for i in 0 1; do
        pid=${INSTANCE_PIDS[$i]}
        rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
        fds=$(ls "/proc/$pid/fd" | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$minute" "$((i + 1))" "$rss" "$fds" "$conns" "${depth:-?}" >>"$OUT/samples.tsv"
    done
    [ "$minute" -lt "$MINUTES" ] && sleep 60
done
wait "$LOAD" || true
sleep 5

acked=$(wc -l <"$OUT/acknowledged.txt")
psql "$DB_URL" -Atc "SELECT provider_id FROM inbound_receipts WHERE channel = 'telegram'" | sed 's/^u//' | sort -n >"$OUT/stored.txt"
missing=$(sort -n "$OUT/acknowledged.txt" | comm -23 - "$OUT/stored.txt" | wc -l)
twice=$(uniq -d "$OUT/stored.txt" | wc -l)

python3 - "$OUT/samples.tsv" "$MINUTES" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
last = int(sys.argv[2]); base = min(5, last)
for inst in ("1", "2"):
    pick = {int(r["minute"]): r for r in rows if r["instance"] == inst}
    for key in ("rss_kb", "fds", "db_connections"):
        a, b = float(pick[base][key]), float(pick[last][key])
        growth = (b - a) / a * 100 if a else 0.0
        verdict = "flat" if growth <= 10 else "GROWS"
        print(f"instance {inst} {key}: minute {base} {a:.0f} -> minute {last} {b:.0f} ({growth:+.1f} %) {verdict}")
PY
echo "acknowledged updates: $acked; not stored: $missing; stored twice: $twice"
echo "samples: $OUT/samples.tsv"
