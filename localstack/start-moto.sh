#!/usr/bin/env bash
# Run moto's server (the AWS emulator with IAM enforcement) in the foreground on 127.0.0.1.
#
#   localstack/start-moto.sh [PORT]        PORT default $KEYGUARD_MOTO_PORT or 5000
#
# Python: $KEYGUARD_PYTHON, else the project's .venv, else python3 (needs moto[server], see
# requirements.lock, installed by `make venv`). IAM enforcement is off at start so the design can be set up; turn it
# on afterwards with
#   curl -X POST -H 'Content-Type: text/plain' --data 0 http://127.0.0.1:PORT/moto-api/reset-auth
# (body `inf` turns it off again). Stop it with SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${KEYGUARD_MOTO_PORT:-5000}}"
python="${KEYGUARD_PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$here/../.venv/bin/python" ]]; then python="$here/../.venv/bin/python"; else python=python3; fi
fi
"$python" -c 'import moto.server, flask' 2>/dev/null \
  || { echo "start-moto: ERROR: $python cannot import moto.server (run: make venv)" >&2; exit 1; }

echo "start-moto: moto server on http://127.0.0.1:$port" >&2
exec "$python" -m moto.server -H 127.0.0.1 -p "$port"
