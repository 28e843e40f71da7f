#!/usr/bin/env bash
# Rehearses an upgrade and its rollback on a scratch PostgreSQL database, without Docker:
#   1. the OLD binary migrates a fresh database and loads the demo data (stands for production);
#   2. a backup is taken before the upgrade (pg_dump custom format; with f18's `relais backup`
#      available, use it instead), and encrypted with gpg to a passphrase file as in production;
#   3. the NEW binary migrates (forward only) and serves: /readyz must answer 200 and the audit
#      trail must verify;
#   4. rollback: the database is dropped, the backup decrypted and restored, and the OLD binary
#      serves again: /readyz 200, the audit trail intact, the same organisations as before.
# Migrations are forward-only: rolling back means the backup from before the upgrade, and the
# writes made after it are lost. Run this before each upgrade with the release you run now (OLD)
# and the one you are about to deploy (NEW).
#
# Usage: deploy/rehearse-upgrade.sh OLD_RELAIS NEW_RELAIS [postgres admin URL]
#   (default postgres://postgres@127.0.0.1:5432/postgres; the scratch database is dropped at the end)
set -Eeuo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 OLD_RELAIS NEW_RELAIS [postgres admin URL]" >&2; exit 2; }
OLD="$(realpath "$1")"
NEW="$(realpath "$2")"
ADMIN="${3:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="relais_rehearsal_$$"
URL="${ADMIN%/*}/$DB"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/relais-rehearsal.XXXXXX")"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
SERVER=""
log() { printf '[rehearse-upgrade] %s\n' "$*" >&2; }
cleanup() {
    [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    psql "$ADMIN" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

export RELAIS_DATABASE_URL="$URL" RELAIS_DATA_DIR="$WORK/var" RELAIS_BIND="127.0.0.1:$PORT" RELAIS_LOG=warn
relais() { "$@" 2>>"$WORK/relais.log"; }
serve() {
    "$1" serve >>"$WORK/relais.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && return 0
        sleep 0.2
    done
    tail -n 30 "$WORK/relais.log" >&2
    log "$1 did not become ready"
    return 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
organisations() { psql "$URL" -qAtc "SELECT count(*) FROM organisations"; }

psql "$ADMIN" -qAtc "CREATE DATABASE $DB" >/dev/null
log "1. the old release ($("$OLD" --version 2>/dev/null || echo "$OLD")) on a fresh database"
relais "$OLD" migrate >/dev/null
relais "$OLD" demo >/dev/null
serve "$OLD" && stop
before="$(organisations)"

log "2. the backup before the upgrade, encrypted"
umask 077
head -c 32 /dev/urandom | base64 >"$WORK/passphrase"
pg_dump --format=custom --dbname="$URL" --file="$WORK/before.dump"
gpg --batch --yes --quiet --pinentry-mode loopback --passphrase-file "$WORK/passphrase" \
    --symmetric --cipher-algo AES256 --output "$WORK/before.dump.gpg" "$WORK/before.dump"
rm "$WORK/before.dump"

log "3. the upgrade: the new release migrates forward and serves"
relais "$NEW" migrate
serve "$NEW"
relais "$NEW" audit verify
stop

log "4. the rollback: the backup restored, the old release serves again"
psql "$ADMIN" -qAtc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
psql "$ADMIN" -qAtc "CREATE DATABASE $DB" >/dev/null
gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$WORK/passphrase" \
    --decrypt "$WORK/before.dump.gpg" | pg_restore --no-owner --exit-on-error --dbname="$URL"
serve "$OLD"
relais "$OLD" audit verify
stop
after="$(organisations)"
[[ "$before" == "$after" ]] || { log "organisations before: $before, after the rollback: $after"; exit 1; }
log "rehearsal passed: upgrade served and verified; rollback restored $after organisations and the old release served"
