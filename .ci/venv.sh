# Sourced by the CI scripts that run Python tools: makes (or reuses) the virtualenv under the
# target folder, the one .ci/schemathesis.sh uses, with the pinned tools below, and sets VENV.
VENV="${CARGO_TARGET_DIR:-$ROOT/target}/ci-venv"
CI_PYTHON_TOOLS=(openapi-python-client==0.29.1 PyYAML==6.0.4 jsonschema==4.26.0)
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" - "${CI_PYTHON_TOOLS[@]}" <<'PYEOF'
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(any(version(name) != wanted for name, wanted in (r.split("==") for r in sys.argv[1:])))
except PackageNotFoundError:
    sys.exit(1)
PYEOF
then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${CI_PYTHON_TOOLS[@]}"
fi
