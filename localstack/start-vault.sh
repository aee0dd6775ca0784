#!/usr/bin/env bash
# Run a dev-mode Vault server (OpenBao, or HashiCorp Vault as fallback; see build-vault.sh) in the
# foreground on 127.0.0.1. Dev mode: in memory, unsealed, one root token. Never use it for real data.
#
#   localstack/start-vault.sh [PORT]       PORT default $KEYGUARD_VAULT_PORT or 8200
#
# Root token: $VAULT_DEV_ROOT_TOKEN_ID if set, else a random one written (mode 0600) to
# $KEYGUARD_VAULT_TOKEN_FILE (default: a new temp dir's root-token file; its path is printed).
# The token reaches the server through the VAULT_DEV_ROOT_TOKEN_ID environment variable, which is
# what `-dev-root-token-id` reads, so it never shows on a process list. The dev banner prints the
# root token and unseal key: those lines are redacted from the output, and -dev-no-store-token keeps
# the token out of ~/.vault-token.
# Plugins: the built plugin dir is passed with -dev-plugin-dir (OpenBao's AWS secrets engine lives
# there; HashiCorp Vault has it built in and the dir is empty).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${KEYGUARD_VAULT_PORT:-8200}}"
CACHE_DIR="${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}"

"$here/build-vault.sh" >/dev/null || { echo "start-vault: ERROR: no Vault server binary (build-vault.sh failed)" >&2; exit 1; }
# shellcheck disable=SC1091
source "$CACHE_DIR/vault/current.env"
[[ -x "$KEYGUARD_VAULT_BIN" ]] || { echo "start-vault: ERROR: $KEYGUARD_VAULT_BIN is not executable" >&2; exit 1; }
mkdir -p "$KEYGUARD_VAULT_PLUGIN_DIR"

if [[ -z "${VAULT_DEV_ROOT_TOKEN_ID:-}" ]]; then
  token_file="${KEYGUARD_VAULT_TOKEN_FILE:-$(mktemp -d "${TMPDIR:-/tmp}/keyguard-vault.XXXXXX")/root-token}"
  VAULT_DEV_ROOT_TOKEN_ID="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  ( umask 077; printf '%s\n' "$VAULT_DEV_ROOT_TOKEN_ID" >"$token_file" )
  echo "start-vault: random root token written to $token_file" >&2
fi
export VAULT_DEV_ROOT_TOKEN_ID
# Client settings of the caller must not leak into the server.
unset VAULT_TOKEN VAULT_ADDR VAULT_CACERT VAULT_NAMESPACE BAO_TOKEN BAO_ADDR

echo "start-vault: $KEYGUARD_VAULT_FLAVOR dev server on http://127.0.0.1:$port" >&2
exec "$KEYGUARD_VAULT_BIN" server -dev \
  -dev-listen-address="127.0.0.1:$port" \
  -dev-plugin-dir="$KEYGUARD_VAULT_PLUGIN_DIR" \
  -dev-no-store-token \
  > >(exec sed -u -E 's/^([[:space:]]*(Root Token|Unseal Key|Recovery Key):).*/\1 <redacted>/') 2>&1
