#!/usr/bin/env bash
# Checks deploy/ without Docker: the compose files against the Compose Specification's JSON
# schema (vendored in deploy/schema/compose-spec.json, from github.com/compose-spec/compose-spec,
# schema/compose-spec.json at a08f8d51631b7127ddac3d2c65537db429d0f1d0), the Prometheus rules
# with promtool (Debian's `prometheus` package, installed when absent), the Grafana dashboard's
# shape, and the shell scripts' syntax.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=venv.sh
source "$ROOT/.ci/venv.sh"
cd "$ROOT/deploy"
"$VENV/bin/python" - compose.yaml compose.secrets.yaml <<'PYEOF'
import json, sys
import jsonschema, yaml
schema = json.load(open("schema/compose-spec.json", encoding="utf-8"))
validator = jsonschema.Draft7Validator(schema)
failed = False
for path in sys.argv[1:]:
    document = yaml.safe_load(open(path, encoding="utf-8"))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    for error in errors:
        failed = True
        print(f"{path}: {'/'.join(map(str, error.path)) or '(root)'}: {error.message}")
    if not errors:
        print(f"{path}: valid against the Compose Specification")
# A control: a key the specification does not know is refused.
if not list(validator.iter_errors({"services": {"x": {"image": "a", "restart_policy": "always"}}})):
    sys.exit("the Compose schema accepted an unknown service key")
dashboard = json.load(open("grafana-dashboard.json", encoding="utf-8"))
assert dashboard["panels"] and all(p["targets"] and all(t["expr"] for t in p["targets"]) for p in dashboard["panels"]), \
    "every dashboard panel has a query"
sys.exit(1 if failed else 0)
PYEOF
if ! command -v promtool >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
        || { echo "cannot install Debian's prometheus (promtool)"; exit 1; }
fi
promtool check rules alerts.yaml
shopt -s nullglob
for script in *.sh; do bash -n "$script"; done
echo "deploy/: compose files, alert rules, dashboard and scripts checked"
