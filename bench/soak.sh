#!/usr/bin/env bash
# Soak benchmark (issue 18): two instances on one PostgreSQL database and one Redis, loaded as a
# working day loads them, for a long time. A benchmark, not a CI step: the figures go in
# docs/benchmarks.md.
#
#   bash bench/soak.sh                          # 30 minutes at 50 messages/s
#   SOAK_MINUTES=5 bash bench/soak.sh           # a short run
#
# The load (the Python half is bench/soak_tool.py; see its docstring):
# - Telegram webhooks at a steady rate, alternately to each instance, from SOAK_CHATS chats; one
#   chat in SOAK_LISTENER_EVERY writes "Je voudrais parler à un écoutant" (the lexicon's
#   `listener` class: queued for a listener), the others "Bonjour" (the bot answers). A fake
#   Telegram Bot API answers the bot's sends and records them.
# - Two listeners (the demo's, and a second one the demo supervisor creates), one per instance,
#   each with a /v1/live WebSocket. Every second each lists its active conversations (the app's
#   view: one it closed that is active again, or one it holds without having taken it, is
#   counted and dealt with), takes a waiting conversation while under its capacity of three
#   (from the list; half the time its head, so the two race: 409), and acts on one of its
#   conversations in turn: shows typing and replies "soak reply L-N", or closes it after three
#   replies. One taken conversation in SOAK_ORIENT_EVERY is oriented to the demo centre
#   (until SOAK_SLOT_LEAD_MINUTES + 1 minutes before the end, or half the run if that is
#   shorter): the fake Telegram, as the person, consents and picks the last of the slots
#   offered, which books an appointment linked to the conversation (it declines a second one
#   for a chat already booked).
# - The centre's manager withdraws the demo's weekly slots, then publishes a slot every minute
#   (50 seats) starting two hours and SOAK_SLOT_LEAD_MINUTES ahead, bookable until two hours
#   before: each booking gets its "day before" reminder at the next reminder round (it is within
#   24 h) and its "two hours before" reminder at most that many minutes later
#   (RELAIS_REMINDER_SECONDS = SOAK_REMINDER_SECONDS), during the run. It also reads the centre's
#   inbox and appointments every minute.
# - A practitioner of the centre opens a case and files a housing request SOAK_HOUSING_PER_MINUTE
#   times a minute (one in eight needs a place for pets, which no offer takes; one in six is
#   withdrawn at once); the housing operator, every 5 s, places each open request in the first
#   compatible offer with room (three soak offers are added to the demo's) or marks it unmet,
#   and later ends, extends or records a no-show for most placements; it reads the national
#   inventory every minute.
# Accounts come from `relais demo`, run once on the fresh database before the instances start
# (its output, passwords included, is kept in $SOAK_OUT/demo.tsv; the database is dropped at exit).
#
# Every minute: samples.tsv (each instance's resident memory, open file descriptors, the
# database's connections, the outbox depth) and activity.tsv (running totals: replies posted and
# delivered, conversations closed then found active again, orientations, bookings, reminders,
# housing requests, live events, non-2xx answers and the races among them).
# After the load: up to SOAK_DRAIN_SECONDS (at least SOAK_SLOT_LEAD_MINUTES + SOAK_REMINDER_SECONDS
# + 30 s) for the outbox to drain and the last bookings' two-hours reminders to fall due. The
# server paces Telegram at 30 messages a second per instance and one per second per chat, and in
# the first minutes every chat is new and welcomed with several messages, so the outbox grows
# before it drains: listener replies, the bot's questions and reminders wait behind it (the
# delay of listener replies is reported by minute). What the outbox still holds at the end is
# reported, and not counted as lost.
#
# Verdict printed at the end: resident memory, file descriptors and database connections of each
# instance at the end against their values after the first five minutes (flat = growth under
# 10 %); acknowledged updates not stored, or stored twice (must be 0); listener replies posted
# against delivered to Telegram exactly once; appointments booked and reminders sent (each once;
# none due and unsent); housing requests created and resolved (placed, unmet, withdrawn) and
# placements by state; conversations closed by their listener that became active again (and
# taken ones lost); each live socket's events against the database's helpline events (none
# missing, repeated or out of order); Telegram messages by kind; every non-2xx answer by route,
# with the expected races (two listeners taking one conversation, ...) counted apart; warnings
# and errors in the instances' logs. Last line: VERDICT.
#
# Needs: python3 (standard library), curl, psql, a PostgreSQL server and a Redis server (the
# script starts its own redis-server on a free port when SOAK_REDIS_URL is not given).
#
# Knobs (environment):
#   SOAK_BIN        binary (default target/release/relais; build it with cargo build --release)
#   SOAK_MINUTES    duration (default 30)
#   SOAK_RATE       webhooks per second, both instances together (default 50)
#   SOAK_CHATS      distinct chats the updates come from (default 2000)
#   SOAK_LISTENER_EVERY      one chat in N asks for a listener (default 10)
#   SOAK_ORIENT_EVERY        one taken conversation in N is oriented to the centre (default 10)
#   SOAK_SLOT_LEAD_MINUTES   each slot starts two hours and this many minutes ahead (default 10:
#                            the bot offers no slot whose booking closes within 5 minutes)
#   SOAK_REMINDER_SECONDS    the instances' RELAIS_REMINDER_SECONDS (default 60, the server's)
#   SOAK_HOUSING_PER_MINUTE  housing requests filed a minute (default 4)
#   SOAK_DRAIN_SECONDS       longest wait after the load for the outbox to empty (default 300)
#   SOAK_SERVER_ENV extra VAR=value words for both instances, e.g.
#                   "RELAIS_ACCESS_TOKEN_TTL_SECONDS=60" to make the live sockets reconnect often
#   SOAK_PG_URL     admin URL for CREATE/DROP DATABASE (default postgres://postgres@127.0.0.1:5432/postgres)
#   SOAK_REDIS_URL  an existing Redis (default: one started here, stopped at exit)
#   SOAK_OUT        folder for the samples (default a new /tmp/relais-soak.XXXXXX)
set -euo pipefail
# The whole script is one block, read before it runs: editing this file during a run is safe.
{
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=$REPO/bench/soak_tool.py
BIN=${SOAK_BIN:-$REPO/target/release/relais}
MINUTES=${SOAK_MINUTES:-30}
RATE=${SOAK_RATE:-50}
CHATS=${SOAK_CHATS:-2000}
LISTENER_EVERY=${SOAK_LISTENER_EVERY:-10}
ORIENT_EVERY=${SOAK_ORIENT_EVERY:-10}
LEAD=${SOAK_SLOT_LEAD_MINUTES:-10}
REMINDER_SECONDS=${SOAK_REMINDER_SECONDS:-60}
HOUSING_PER_MINUTE=${SOAK_HOUSING_PER_MINUTE:-4}
DRAIN=${SOAK_DRAIN_SECONDS:-300}
SERVER_ENV=${SOAK_SERVER_ENV:-}
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
[ "$MINUTES" -ge 1 ] || { echo "SOAK_MINUTES must be at least 1" >&2; exit 1; }
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB" >/dev/null

if [ -z "${SOAK_REDIS_URL:-}" ]; then
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 &
    PIDS+=($!)
    SOAK_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
fi

# Ports first: the fake Telegram posts the person's button presses to the instances.
PORTS=()
while [ "${#PORTS[@]}" -lt 3 ]; do
    p=$(free_port)
    [[ " ${PORTS[*]} " == *" $p "* ]] || PORTS+=("$p")
done
FAKE_PORT=${PORTS[2]}
PORTS=("${PORTS[0]}" "${PORTS[1]}")
PORT_LIST=${PORTS[0]},${PORTS[1]}

python3 "$TOOL" fake --port "$FAKE_PORT" --ports "$PORT_LIST" --secret "$SECRET" \
    --acked "$OUT/acknowledged-buttons.txt" >"$OUT/fake.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$FAKE_PORT/_soak/counts" >/dev/null && break
    sleep 0.1
done

DATA=$OUT/data
mkdir -p "$DATA"
KEYS=(RELAIS_JWT_KEY RELAIS_HMAC_PEPPER RELAIS_FIELD_KEY)
declare -A KEY
for k in "${KEYS[@]}"; do KEY[$k]=$(head -c 48 /dev/urandom | base64 -w0); done

# relais with instance $1's environment (the same database, Redis, keys and fake Telegram), in
# place of the calling shell: call it in a subshell or in the background (so that $! is the server).
relais() {
    local i=$1
    shift
    # shellcheck disable=SC2086 # SOAK_SERVER_ENV is a list of VAR=value words
    exec env -i PATH="$PATH" RELAIS_LOG=warn RELAIS_BIND="127.0.0.1:${PORTS[$((i - 1))]}" RELAIS_DATA_DIR="$DATA/$i" \
        RELAIS_DATABASE_URL="$DB_URL" RELAIS_REDIS_URL="$SOAK_REDIS_URL" \
        RELAIS_JWT_KEY="${KEY[RELAIS_JWT_KEY]}" RELAIS_HMAC_PEPPER="${KEY[RELAIS_HMAC_PEPPER]}" \
        RELAIS_FIELD_KEY="${KEY[RELAIS_FIELD_KEY]}" \
        RELAIS_TELEGRAM_TOKEN=123456:SOAK RELAIS_TELEGRAM_API_URL="http://127.0.0.1:$FAKE_PORT" \
        RELAIS_TELEGRAM_WEBHOOK_SECRET=$SECRET RELAIS_HELPLINE_HOURS="mon-sun 00:00-24:00" \
        RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE=1000000 RELAIS_RATE_LIMIT_GUESS_PER_MINUTE=1000000 \
        RELAIS_REMINDER_SECONDS="$REMINDER_SECONDS" $SERVER_ENV \
        "$BIN" "$@"
}

# The demo's organisations, accounts (with their passwords), weekly slots and housing offers.
(relais 1 demo) >"$OUT/demo.tsv" 2>"$OUT/demo.log" || { cat "$OUT/demo.log" >&2; exit 1; }

INSTANCE_PIDS=()
for i in 1 2; do
    relais "$i" serve >"$OUT/instance-$i.log" 2>&1 &
    INSTANCE_PIDS+=($!)
    PIDS+=($!)
    for _ in $(seq 1 200); do
        curl -fs "http://127.0.0.1:${PORTS[$((i - 1))]}/readyz" >/dev/null && break
        sleep 0.1
    done
done
echo "instances on ${PORTS[*]}, database $DB, redis $SOAK_REDIS_URL, samples in $OUT"

# The load: webhooks at a fixed rate; acknowledged ids to a file.
python3 "$TOOL" load --rate "$RATE" --seconds "$((MINUTES * 60))" --chats "$CHATS" \
    --listener-every "$LISTENER_EVERY" --secret "$SECRET" --acked "$OUT/acknowledged.txt" \
    --stats "$OUT/load.json" --ports "$PORT_LIST" &
LOAD=$!
PIDS+=($LOAD)
# The staff: listeners, the centre, the practitioner and the housing operator.
python3 "$TOOL" work --out "$OUT" --seconds "$((MINUTES * 60))" --ports "$PORT_LIST" \
    --accounts "$OUT/demo.tsv" --orient-every "$ORIENT_EVERY" --lead "$LEAD" \
    --housing-per-minute "$HOUSING_PER_MINUTE" >"$OUT/work.log" 2>&1 &
WORK=$!
PIDS+=($WORK)

outbox_depth() { curl -fs "http://127.0.0.1:${PORTS[0]}/metrics" | awk '/^relais_outbox_depth /{print $2}'; }

# Samples every minute: minute, instance, RSS kB, fds, database connections, outbox depth; and
# the running totals of the activity.
printf 'minute\tinstance\trss_kb\tfds\tdb_connections\toutbox_depth\n' >"$OUT/samples.tsv"
for minute in $(seq 0 "$MINUTES"); do
    conns=$(psql "$PG_ADMIN" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'")
    depth=$(outbox_depth || true)
    for i in 0 1; do
        pid=${INSTANCE_PIDS[$i]}
        rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
        fds=$(ls "/proc/$pid/fd" | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$minute" "$((i + 1))" "$rss" "$fds" "$conns" "${depth:-?}" >>"$OUT/samples.tsv"
    done
    python3 "$TOOL" activity --out "$OUT" --fake-port "$FAKE_PORT" --minute "$minute" \
        $([ "$minute" -eq 0 ] && echo --header) >>"$OUT/activity.tsv"
    if [ "$minute" -lt "$MINUTES" ]; then sleep 60; fi
done
wait "$LOAD" || true
if ! wait "$WORK"; then
    echo "the staff's side (soak_tool.py work) failed:" >&2
    tail -20 "$OUT/work.log" >&2
    exit 1
fi

# Drain: the outbox empty, and every booking's two-hours reminder sent (those fall due at most
# LEAD minutes after the last booking); at most DRAIN seconds, or longer for those reminders.
limit=$((LEAD * 60 + REMINDER_SECONDS + 30))
[ "$DRAIN" -gt "$limit" ] && limit=$DRAIN
started=$SECONDS
while :; do
    depth=$(outbox_depth || echo '?')
    pending=$(psql "$DB_URL" -Atc "SELECT count(*) FROM appointments a JOIN slots s ON s.id = a.slot_id
        WHERE a.status = 'booked' AND a.conversation_id IS NOT NULL AND NOT a.reminded_two_hours
        AND s.starts_at <= (now() AT TIME ZONE 'utc') + interval '2 hours' + interval '$((LEAD + 1)) minutes'")
    [ "$depth" = 0 ] && [ "$pending" = 0 ] && break
    [ $((SECONDS - started)) -ge "$limit" ] && break
    sleep 5
done
sleep 3
echo "drained in $((SECONDS - started)) s (outbox $depth, two-hours reminders pending $pending)"

# What the database says, for the verdict.
psql "$DB_URL" -Atc "SELECT extract(epoch FROM s.starts_at), a.reminded_day_before, a.reminded_two_hours, a.status,
    extract(epoch FROM now()) FROM appointments a JOIN slots s ON s.id = a.slot_id
    WHERE a.conversation_id IS NOT NULL" >"$OUT/appointments.tsv"
psql "$DB_URL" -Atc "SELECT 'request', status, count(*) FROM housing_requests GROUP BY status
    UNION ALL SELECT 'placement', status, count(*) FROM housing_placements GROUP BY status" >"$OUT/housing.tsv"
psql "$DB_URL" -Atc "SELECT seq FROM live_events WHERE kind <> 'security.alert' AND (organisation_id IS NULL
    OR organisation_id IN (SELECT id FROM organisations WHERE kind = 'helpline')) ORDER BY seq" >"$OUT/helpline-events.txt"
psql "$DB_URL" -Atc "SELECT (SELECT count(*) FROM conversations c WHERE c.state <> 'closed' AND EXISTS (SELECT 1
    FROM audit_log a WHERE a.action = 'conversation.close' AND a.object_id = c.id)),
    (SELECT count(*) FROM audit_log WHERE action = 'conversation.requeue_silent')" >"$OUT/conversations-end.txt"
psql "$DB_URL" -Atc "SELECT count(*), count(*) FILTER (WHERE m.author = 'listener') FROM outbox o
    LEFT JOIN messages m ON m.id = o.message_id WHERE o.status IN ('pending', 'sending')" >"$OUT/outbox-end.txt"
curl -fs "http://127.0.0.1:$FAKE_PORT/_soak/dump" >"$OUT/fake.json"

cat "$OUT/acknowledged.txt" "$OUT/acknowledged-buttons.txt" | sort -n >"$OUT/acknowledged-all.txt"
acked=$(wc -l <"$OUT/acknowledged-all.txt")
psql "$DB_URL" -Atc "SELECT provider_id FROM inbound_receipts WHERE channel = 'telegram'" | sed 's/^u//' | sort -n >"$OUT/stored.txt"
missing=$(comm -23 "$OUT/acknowledged-all.txt" "$OUT/stored.txt" | wc -l)
twice=$(uniq -d "$OUT/stored.txt" | wc -l)

# Warnings and errors the instances logged (RELAIS_LOG=warn), most frequent first.
for i in 1 2; do
    log=$OUT/instance-$i.log
    echo "instance $i log: $(grep -c ' WARN ' "$log" || true) warnings, $(grep -c ' ERROR ' "$log" || true) errors"
    grep -E ' (WARN|ERROR) ' "$log" | sed -E 's/^[^ ]+ +//; s/[0-9a-f]{8}-[0-9a-f-]{27}/<id>/g' | cut -c1-200 |
        sort | uniq -c | sort -rn | head -5 | sed 's/^/   /' || true
done

python3 "$TOOL" report --out "$OUT" --minutes "$MINUTES" --reminder-seconds "$REMINDER_SECONDS" \
    --acked "$acked" --not-stored "$missing" --stored-twice "$twice"
echo "samples: $OUT/samples.tsv, activity: $OUT/activity.tsv"
exit
}
