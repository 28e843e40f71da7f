#!/usr/bin/env bash
# The Python client generates from openapi.yaml with nothing left out: openapi-python-client
# (PyPI, pinned) must print no warning (a dropped schema, an omitted response or endpoint, an
# unsupported media type), every object and enum schema of the contract must become a model,
# and the generated package must import. Its configuration is tools/openapi-python-client.yaml.
#
# Usage: .ci/python-client.sh   (the virtualenv is shared with .ci/schemathesis.sh, under the
# target folder; the generated client goes to a temporary folder and is removed)
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=venv.sh
source "$ROOT/.ci/venv.sh"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/relais-python-client.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
"$VENV/bin/openapi-python-client" generate --path "$ROOT/openapi.yaml" \
    --config "$ROOT/tools/openapi-python-client.yaml" --output-path "$OUT/client" --overwrite \
    >"$OUT/log" 2>&1 || { cat "$OUT/log"; echo "openapi-python-client failed"; exit 1; }
# Its only line on a clean run is "Generating <folder>"; anything else is a warning.
if grep -v -e '^Generating ' -e '^$' "$OUT/log" >/dev/null; then
    cat "$OUT/log"
    echo "openapi-python-client warned: a schema, a response or an endpoint was left out"
    exit 1
fi
"$VENV/bin/python" - "$ROOT/openapi.yaml" "$OUT/client/relais_client/models" <<'PYEOF'
import os, re, sys
import yaml
spec_path, models_dir = sys.argv[1:3]
schemas = yaml.safe_load(open(spec_path, encoding="utf-8"))["components"]["schemas"]
models = {name[:-3] for name in os.listdir(models_dir) if name.endswith(".py")}
snake = lambda name: re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
missing = [
    name for name, schema in schemas.items()
    if (schema.get("type") == "object" or "enum" in schema) and snake(name) not in models
]
if missing:
    sys.exit("schemas with no generated model (an allOf folded away, or a name taken twice): " + ", ".join(missing))
print(f"python client: {len(models)} models from {len(schemas)} schemas, none left out")
PYEOF
(cd "$OUT/client" && "$VENV/bin/python" -c 'import relais_client, relais_client.api, relais_client.models')
