#!/usr/bin/env bash
# Contract fuzzing: runs schemathesis (PyPI) against a live Relais server and checks that
# no request gets a 5xx and that every response conforms to openapi.yaml (documented status
# code, content type, response headers, response body schema).
#
# Usage: .ci/schemathesis.sh <path-to-relais-binary>
#
# The server runs from a fresh temporary folder (its data dir and cwd) on a free loopback
# port, with the demo accounts; requests carry the demo admin's bearer token. Two passes:
#   1. every operation except the three that can end the caller's session (logout,
#      updateUser, resetUserTotp), with the token obtained at start;
#   2. those three, with freshly obtained tokens: updateUser and resetUserTotp together
#      (aimed at a non-admin account), then logout alone.
# Exits non-zero when schemathesis reports a failure or the setup fails. JUnit and NDJSON
# reports land in target/schemathesis/ (main.*, user-changes.*, logout.*).
#
# Knobs (environment): ST_MAX_EXAMPLES (default 50 per operation; pass 2 uses at most 20),
# ST_SEED (default 20240601), ST_WORKERS (default 1, which keeps runs reproducible),
# ST_REPORT_DIR (default target/schemathesis), ST_CHECKS (comma list, replaces the default
# checks below), ST_EXTRA_ARGS (more `st run` options, word-split).
set -Eeuo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 <path-to-relais-binary>" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[[ -x "$BIN" ]] || { echo "schemathesis.sh: $1 is not an executable" >&2; exit 2; }
SPEC="$ROOT/openapi.yaml"
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/ci-venv"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-50}"
SEED="${ST_SEED:-20240601}"
WORKERS="${ST_WORKERS:-1}"
REPORT_DIR="${ST_REPORT_DIR:-$ROOT/target/schemathesis}"

log() { printf '[schemathesis.sh] %s\n' "$*" >&2; }

# --- schemathesis, in a virtualenv kept under target/ ---------------------------------------
if [[ ! -x "$VENV/bin/st" ]]; then
    log "installing schemathesis into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
ST="$VENV/bin/st"
PY="$VENV/bin/python"
log "$("$ST" --version)"

# --- temporary home for the server ------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/relais-st.XXXXXX")"
SERVER_LOG="$TMP/server.log"
SERVER_PID=""

BAN_PID=""

cleanup() {
    local rc=$?
    if [[ -n "$BAN_PID" ]]; then
        kill "$BAN_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        log "failed (exit $rc); last lines of the server log ($SERVER_LOG):"
        tail -n 60 "$SERVER_LOG" >&2 2>/dev/null || true
        # Keep the folder for a look at the database and logs when run by hand.
        if [[ "${CI:-}" != "true" ]]; then
            log "kept $TMP"
            exit "$rc"
        fi
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$TMP"

PORT="$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
BASE="http://127.0.0.1:$PORT"
export RELAIS_BIND="127.0.0.1:$PORT"
export RELAIS_DATA_DIR="$TMP/var"
# Schemathesis calls from one address, faster than any person: the rate limits are raised (429
# stays documented on each limited operation).
export RELAIS_RATE_LIMIT_GUESS_PER_MINUTE=1000000
export RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE=1000000

# A fake of the Base Adresse Nationale's search API, so that address search (searchAddresses)
# is fuzzed through its whole path; without a geocoder it answers 503 by design. It answers
# every query with one real address, and 400 as the BAN does to a query it refuses.
BAN_PORT="$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
"$PY" - "$BAN_PORT" >"$TMP/ban.log" 2>&1 <<'PYEOF' &
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.4554, 48.7776]},
           "properties": {"label": "1 Place Salvador Allende 94000 Créteil", "score": 0.95, "type": "housenumber",
                          "postcode": "94000", "citycode": "94028", "name": "1 Place Salvador Allende"}}

class Ban(BaseHTTPRequestHandler):
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        q = (query.get("q") or [""])[0]
        if not 3 <= len(q) <= 200:
            status, body = 400, {"code": 400, "message": "q must contain between 3 and 200 chars"}
        else:
            status, body = 200, {"type": "FeatureCollection", "features": [FEATURE], "query": q}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ban).serve_forever()
PYEOF
BAN_PID=$!
export RELAIS_GEOCODER_URL="http://127.0.0.1:$BAN_PORT"

log "starting $BIN serve on $BASE (data dir $RELAIS_DATA_DIR)"
"$BIN" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null --max-time 2 "$BASE/healthz" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "the server exited before answering /healthz"
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        log "no answer from $BASE/healthz within 60 s"
        exit 1
    fi
    sleep 0.3
done
log "server is up"

# --- demo admin and its token -------------------------------------------------------------------
"$BIN" demo >"$TMP/demo.tsv" 2>"$TMP/demo.log" || {
    log "relais demo failed:"
    cat "$TMP/demo.log" >&2
    exit 1
}
IFS=$'\t' read -r ADMIN_EMAIL ADMIN_PASSWORD < <(
    awk -F '\t' 'NR > 1 && $1 == "admin" { print $3 "\t" $4; exit }' "$TMP/demo.tsv"
) || true
if [[ -z "${ADMIN_EMAIL:-}" || -z "${ADMIN_PASSWORD:-}" ]]; then
    log "no admin row in the output of relais demo"
    exit 1
fi

login() {
    local body
    body="$("$PY" -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' \
        "$ADMIN_EMAIL" "$ADMIN_PASSWORD")"
    curl -fsS --max-time 10 -H 'Content-Type: application/json' --data-binary "$body" "$BASE/v1/auth/login" \
        | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# --- schemathesis ----------------------------------------------------------------------------
# Checks: the five conformance checks asked of every response (the contract lists every status
# each operation answers: no `default` catch-all, so status_code_conformance has teeth), plus
#  - negative_data_rejection: a request that violates the schema (wrong type, missing or
#    unknown field, malformed id...) must get a 4xx, as the API promises strict bodies;
#  - positive_data_acceptance: schema-valid data must not get a 400, except on the operations
#    listed in POSITIVE_EXCEPTIONS below, each with the rule the schema cannot express;
#  - ignored_auth: an operation with a security requirement must answer 401 when sent
#    without credentials or with wrong ones;
#  - missing_required_header, unsupported_method and allow_header_conformance: a method a path
#    does not serve answers 405 with an Allow header (RFC 9110).
# Phases: examples, coverage, fuzzing, and stateful (schemathesis infers the links between a
# create and the reads of what it created from the Location headers and from the schema).
# Not enabled: use_after_free, ensure_resource_availability and object_level_authorization,
# which need a delete for each create or a second account per organisation; the Rust suite
# covers them (tests/tests/api/access.rs, cases.rs).
# The checks are set in the generated config file (a --checks list on the command line would
# override the per-operation exceptions); ST_CHECKS replaces them all.
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance,ignored_auth,missing_required_header,unsupported_method,allow_header_conformance"
PHASES="${ST_PHASES:-examples,coverage,fuzzing,stateful}"
SESSION_ENDERS=(logout updateUser resetUserTotp)
SHORT=$(( MAX_EXAMPLES < 20 ? MAX_EXAMPLES : 20 ))

mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR"/main.* "$REPORT_DIR"/user-changes.* "$REPORT_DIR"/logout.*

# schemathesis.toml for all runs, written after some setup through the API. Random ids
# mostly name nothing (404), so some operations get known ids or tokens in part of their
# generated cases, to reach their success responses too:
#  - updateUser and resetUserTotp always act on one non-admin demo account (TARGET_EMAIL), so
#    they never end the admin's session (malformed and unknown user ids are exercised on
#    getUser); schemathesis's own pool of ids, which it seeds with the JWT's `sub` (the admin),
#    is kept away from them;
#  - createApiKey: the partner organisation (API keys are for partners only);
#  - createUser: the centres and the helpline;
#  - revokeApiKey: a partner API key made here;
#  - refreshTokens: a refresh token of a non-admin demo account (one use succeeds, the
#    next ones are refused as reused).
TARGET_EMAIL="${ST_TARGET_EMAIL:-practitioner@demo.relais.example}"
write_config() {
    local token="$1"
    "$PY" - "$BASE" "$token" "$TARGET_EMAIL" "$TMP/demo.tsv" "$CHECKS" >"$TMP/schemathesis.toml" <<'PYEOF'
import json, sys, urllib.request

base, token, target, demo_tsv, checks = sys.argv[1:6]

print("[checks]\nenabled = false")
for name in checks.split(","):
    print("%s.enabled = true" % name)
print()

def call(method, path, body=None, auth=token):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Bearer " + auth
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)

orgs = call("GET", "/v1/organisations")["items"]
by_kind = {}
for org in orgs:
    by_kind.setdefault(org["kind"], []).append(org["id"])
users = [u for org in orgs for u in call("GET", "/v1/organisations/%s/users" % org["id"])["items"]]
target_ids = [u["id"] for u in users if u["email"] == target]
if not target_ids or not by_kind.get("partner") or not by_kind.get("centre"):
    sys.exit("the demo data lacks %s, a partner or a centre" % target)
key = call("POST", "/v1/organisations/%s/api-keys" % by_kind["partner"][0], {"name": "schemathesis"})
rows = [line.rstrip("\n").split("\t") for line in open(demo_tsv, encoding="utf-8")][1:]
other = next(r for r in rows if r[0] == "housing_operator")
refresh = call("POST", "/v1/auth/login", {"email": other[2], "password": other[3]}, auth=None)["refresh_token"]

def toml_list(values):
    return json.dumps(sorted(values))

print("[dictionaries.partners]\nvalues = %s\n" % toml_list(by_kind["partner"]))
print("[dictionaries.staff-orgs]\nvalues = %s\n" % toml_list(by_kind["centre"] + by_kind.get("helpline", [])))
print("[dictionaries.api-keys]\nvalues = %s\n" % toml_list([key["id"]]))
print("[dictionaries.refresh-tokens]\nvalues = %s\n" % toml_list([refresh]))

# Schema-valid data that the server rightly refuses with a 400, by a rule the schema cannot
# express. positive_data_acceptance is off for these operations only.
POSITIVE_EXCEPTIONS = {
    "chatSocket": "a WebSocket handshake: a plain GET without the Upgrade headers is refused",
    "subscribePush": "the endpoint must be on a push service the operator allows, and p256dh a point on the P-256 curve",
    "searchAddresses": "q must start with a letter or a digit, as the BAN requires (Unicode classes, which the schema's regex dialect lacks)",
    "liveEvents": "a WebSocket handshake: a plain GET without the Upgrade headers is refused",
    "checkCertificate": "a code is 20 letters and digits with a check, typed with any separators",
    "getHousingInventory": "dates between the years 2000 and 2199 (format: date allows year 0001)",
    "updateOrganisation": "coverage codes must be known départements (the reference data, not a pattern)",
    "createOrganisation": "coverage codes must be known départements (the reference data, not a pattern)",
    "updateUser": "roles belong to a kind of organisation (admin: national, practitioner: centre...)",
    "createUser": "roles belong to a kind of organisation (admin: national, practitioner: centre...)",
    "createApiKey": "API keys are for partner organisations only",
    "postChatMessage": "a choice must be one the bot offered in this conversation",
    "confirmTotp": "the code must be the current one-time code of the enrolled secret",
    "createPlacement": "the offer must be an active offer with a free place on every night",
    "endPlacement": "dates between the years 2000 and 2199, inside the placement",
    "extendPlacement": "dates between the years 2000 and 2199, after the placement's last night",
    "createReferral": "text fields must hold more than blanks and no control characters",
    "rejectReferral": "the reason must hold more than blanks and no control characters",
    "listReferrals": "a cursor is one this list gave (opaque); dates between the years 2000 and 2199",
    "listWebhookDeliveries": "a cursor is one this list gave (opaque)",
    "listCases": "a cursor is one this list gave (opaque)",
    "listAppointments": "a cursor is one this list gave (opaque); dates between the years 2000 and 2199",
    "listPhoneCalls": "a cursor is one this list gave (opaque); dates between the years 2000 and 2199",
    "listConversations": "a cursor is one this list gave (opaque)",
    "listHousingRequests": "a cursor is one this list gave (opaque)",
    "listHousingOffers": "a cursor is one this list gave (opaque)",
    "listSecurityAlerts": "a cursor is one this list gave (opaque)",
    "replaceCentreLocations": "latitude and longitude come together, and the address is in a known commune",
    "replaceCentreServices": "text fields must hold more than blanks and no control characters",
    "createHousingOffer": "text fields must hold more than blanks; dates between 2000 and 2199",
    "updateHousingOffer": "text fields must hold more than blanks; dates between 2000 and 2199",
    "setWebhookEndpoint": "an absolute https URL to a public address",
    "updateCentreProfile": "a phone number in a French format (metropolitan or overseas)",
}
PARAMETERS = {
    "updateUser": ("path.id", json.dumps(target_ids[0]), False),
    "resetUserTotp": ("path.id", json.dumps(target_ids[0]), False),
    "createApiKey": ("path.id", '{ dictionary = "partners", probability = 0.7 }', True),
    "createUser": ("path.id", '{ dictionary = "staff-orgs", probability = 0.7 }', True),
    "revokeApiKey": ("path.id", '{ dictionary = "api-keys", probability = 0.5 }', True),
    "refreshTokens": ("body.refresh_token", '{ dictionary = "refresh-tokens", probability = 0.5 }', True),
}

for op_id in sorted(set(PARAMETERS) | set(POSITIVE_EXCEPTIONS)):
    print("[[operations]]")
    print('include-operation-id = "%s"' % op_id)
    if op_id in PARAMETERS:
        key, value, pool = PARAMETERS[op_id]
        print('parameters = { "%s" = %s }' % (key, value))
        if not pool:
            print("phases.coverage.extra-data-sources.responses = false")
            print("phases.fuzzing.extra-data-sources.responses = false")
    if op_id in POSITIVE_EXCEPTIONS:
        print("# " + POSITIVE_EXCEPTIONS[op_id])
        print("checks.positive_data_acceptance.enabled = false")
    print()
PYEOF
}

run_st() {
    local name="$1" token="$2" examples="$3"
    shift 3
    local cmd=(
        "$ST" --config-file "$TMP/schemathesis.toml" run "$SPEC"
        --url "$BASE"
        --header "Authorization: Bearer $token"
        ${ST_CHECKS:+--checks "$ST_CHECKS"}
        --phases "$PHASES"
        --max-examples "$examples"
        --seed "$SEED"
        --generation-database none
        --workers "$WORKERS"
        --request-timeout 10
        --suppress-health-check too_slow,filter_too_much
        --no-color
        --report junit,ndjson
        --report-dir "$REPORT_DIR"
        --report-junit-path "$REPORT_DIR/$name.junit.xml"
        --report-ndjson-path "$REPORT_DIR/$name.ndjson"
        ${ST_EXTRA_ARGS:-}
        "$@"
    )
    log "pass '$name': ${cmd[*]/$token/<token>}"
    local started=$SECONDS rc=0
    "${cmd[@]}" || rc=$?
    log "pass '$name' finished in $((SECONDS - started)) s with exit code $rc"
    return "$rc"
}

rc=0

# Pass 1: everything but the operations that end sessions.
TOKEN="$(login)" || { log "admin login failed"; exit 1; }
write_config "$TOKEN" || { log "cannot prepare the schemathesis config from the demo data"; exit 1; }
excludes=()
for op in "${SESSION_ENDERS[@]}"; do excludes+=(--exclude-operation-id "$op"); done
run_st main "$TOKEN" "$MAX_EXAMPLES" "${excludes[@]}" || rc=1

# Pass 2: the session enders, with a fresh token. updateUser and resetUserTotp act on a
# non-admin account (see write_config), so the admin's session survives them; logout runs
# alone, last, with a token of its own, as it ends the session it is called with.
TOKEN="$(login)" || { log "admin login failed before pass 2"; exit 1; }
run_st user-changes "$TOKEN" "$SHORT" --include-operation-id updateUser --include-operation-id resetUserTotp || rc=1
TOKEN="$(login)" || { log "admin login failed before the logout pass"; exit 1; }
run_st logout "$TOKEN" "$SHORT" --include-operation-id logout || rc=1

if [[ $rc -ne 0 ]]; then
    log "schemathesis found failures (reports in $REPORT_DIR)"
fi
exit "$rc"
