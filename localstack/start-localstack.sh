#!/usr/bin/env bash
# Run LocalStack (S3, KMS, IAM, STS) directly on the host, in the foreground, listening only on
# 127.0.0.1. No Docker: localstack-core runs from its own Python 3.13 venv (setup-localstack.sh).
#
#   localstack/start-localstack.sh [PORT [STATE_DIR]]
#   PORT      default $KEYGUARD_LOCALSTACK_PORT or 4566
#   STATE_DIR default $KEYGUARD_LOCALSTACK_STATE_DIR or a new temp dir; every file LocalStack writes
#             (filesystem root, tmp, config, cache) stays under it.
#
# OVERRIDE_IN_DOCKER=0 makes LocalStack use host-mode directories under FILESYSTEM_ROOT instead of
# /etc/localstack and /var/lib/localstack; DNS_ADDRESS=0 keeps it from starting its DNS server.
# LocalStack does not enforce IAM. Stop it with SIGTERM (takes a few seconds).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${KEYGUARD_LOCALSTACK_PORT:-4566}}"
state="${2:-${KEYGUARD_LOCALSTACK_STATE_DIR:-}}"
if [[ -z "$state" ]]; then
  state="$(mktemp -d "${TMPDIR:-/tmp}/keyguard-localstack.XXXXXX")"
fi
mkdir -p "$state"/{filesystem,tmp,config,cache,volume}
state="$(cd "$state" && pwd)"

python="$("$here/setup-localstack.sh" | tail -n 1)"
[[ -x "$python" ]] || { echo "start-localstack: ERROR: no LocalStack python (setup-localstack.sh failed)" >&2; exit 1; }

echo "start-localstack: LocalStack on http://127.0.0.1:$port, state in $state" >&2

export OVERRIDE_IN_DOCKER=0
export DNS_ADDRESS=0
export GATEWAY_LISTEN="127.0.0.1:$port"
export LOCALSTACK_HOST="127.0.0.1:$port"
export SERVICES="${SERVICES:-s3,kms,iam,sts}"
export FILESYSTEM_ROOT="$state/filesystem"
export LOCALSTACK_VOLUME_DIR="$state/volume"
export CONFIG_DIR="$state/config"
export XDG_CACHE_HOME="$state/cache"
export TMPDIR="$state/tmp"
export PERSISTENCE=0
export DISABLE_EVENTS=1
export SKIP_SSL_CERT_DOWNLOAD=1
export SKIP_INFRA_DOWNLOADS=1
unset DATA_DIR
exec "$python" -m localstack.runtime.main
