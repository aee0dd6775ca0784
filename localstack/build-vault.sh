#!/usr/bin/env bash
# Build (once) and cache a dev-mode Vault server for keyguard's integration tests.
#
# Preferred: OpenBao v2.6.2 (commit dd9c19c37a87), built from Go modules through a tiny wrapper
# module that requires github.com/openbao/openbao at that commit's pseudo-version (the root module
# has no /v2 suffix), sdk/v2 at a pseudo-version of the same commit and api/v2 v2.6.0, and calls
# command.Run. OpenBao's AWS secrets engine is not built in: the plugin
# github.com/openbao/openbao-plugins/secrets/aws is built into a plugin directory that
# start-vault.sh hands to `server -dev -dev-plugin-dir`.
#
# Fallback: HashiCorp Vault (AWS secrets engine built in), from the github.com/hashicorp/vault Go
# module, when the OpenBao modules cannot be downloaded (for example a Go module proxy that does not
# serve those pseudo-versions). Force one with KEYGUARD_VAULT_FLAVOR=openbao|vault.
#
# Everything goes to a cache directory OUTSIDE the repository:
#   ${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}/vault/<flavor>-<version>/{bin,plugins,src}
# and ${KEYGUARD_CACHE_DIR}/vault/current.env records what was built:
#   KEYGUARD_VAULT_FLAVOR, KEYGUARD_VAULT_BIN, KEYGUARD_VAULT_PLUGIN_DIR, KEYGUARD_VAULT_AWS_PLUGIN
# Re-running reuses the binaries already built (idempotent). The last line on stdout is the binary's
# path. Requires: bash, go (1.25 or newer) on PATH, and access to a Go module proxy.
set -euo pipefail

CACHE_DIR="${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}"
FLAVOR="${KEYGUARD_VAULT_FLAVOR:-auto}"

OPENBAO_VERSION="v2.6.2"
OPENBAO_COMMIT="dd9c19c37a87"
# Pseudo-versions of commit dd9c19c37a87 (committed 2026-08-18T15:43:05Z): the root module has no
# semver tag it can use (its v2.x tags lack the /v2 suffix), sdk/v2's nearest ancestor tag is sdk/v2.6.2.
OPENBAO_ROOT_VERSION="${KEYGUARD_OPENBAO_ROOT_VERSION:-v0.0.0-20260818154305-dd9c19c37a87}"
OPENBAO_SDK_VERSION="${KEYGUARD_OPENBAO_SDK_VERSION:-v2.6.3-0.20260818154305-dd9c19c37a87}"
OPENBAO_API_VERSION="${KEYGUARD_OPENBAO_API_VERSION:-v2.6.0}"
OPENBAO_PLUGINS_VERSION="${KEYGUARD_OPENBAO_PLUGINS_VERSION:-latest}"
OPENBAO_AWS_PLUGIN="openbao-plugin-secrets-aws"

# v1.21.1 is the newest release that builds as a dependency: its code matches the vault/sdk v0.20.0 it
# requires. v1.21.2 calls sdk functions that v0.20.0 lacks, and from v1.21.3 on the release branch
# requires sdk v0.21.0, a tag cut from main with an incompatible framework API (the module's own
# `replace ./sdk`, which made it build upstream, is ignored for dependencies).
VAULT_VERSION="${KEYGUARD_HASHICORP_VAULT_VERSION:-v1.21.1}"
VAULT_SDK_VERSION="${KEYGUARD_HASHICORP_VAULT_SDK_VERSION:-v0.20.0}"

log() { printf 'build-vault: %s\n' "$*" >&2; }
die() { printf 'build-vault: ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go 1.25 or newer is needed to build the Vault server)"

mkdir -p "$CACHE_DIR/vault"
CURRENT_ENV="$CACHE_DIR/vault/current.env"
# One build at a time (parallel test workers, two shells): the others wait, then reuse it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/vault/.build.lock"
  flock 9
fi

write_env() { # flavor bin plugin_dir aws_plugin
  local tmp="$CURRENT_ENV.tmp.$$"
  {
    printf 'KEYGUARD_VAULT_FLAVOR=%s\n' "$1"
    printf 'KEYGUARD_VAULT_BIN=%s\n' "$2"
    printf 'KEYGUARD_VAULT_PLUGIN_DIR=%s\n' "$3"
    printf 'KEYGUARD_VAULT_AWS_PLUGIN=%s\n' "$4"
  } >"$tmp"
  mv -f "$tmp" "$CURRENT_ENV"
}

# Module downloads and the build cache stay in the user's normal Go caches; the GOFLAGS of the
# caller (for example -mod=vendor) must not leak into the wrapper module.
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"

openbao_dir="$CACHE_DIR/vault/openbao-$OPENBAO_VERSION"
vault_dir="$CACHE_DIR/vault/hashicorp-vault-$VAULT_VERSION"

reuse() { # flavor dir binary aws_plugin
  local bin="$2/bin/$3"
  if [[ -x "$bin" ]] && { [[ -z "$4" ]] || [[ -x "$2/plugins/$4" ]]; }; then
    log "reusing $1 at $bin"
    write_env "$1" "$bin" "$2/plugins" "$4"
    printf '%s\n' "$bin"
    exit 0
  fi
}

build_openbao() {
  local dir="$openbao_dir" src="$openbao_dir/src"
  mkdir -p "$src" "$dir/bin" "$dir/plugins"
  log "checking that the Go module proxy serves github.com/openbao/openbao@$OPENBAO_ROOT_VERSION"
  (cd "$src" && go mod download -json "github.com/openbao/openbao@$OPENBAO_ROOT_VERSION" >/dev/null 2>&1) \
    || { log "github.com/openbao/openbao@$OPENBAO_ROOT_VERSION cannot be downloaded"; rm -rf "$dir"; return 1; }
  cat >"$src/go.mod" <<EOF
module keyguard.local/openbao-build

go 1.25.8

require (
	github.com/openbao/openbao $OPENBAO_ROOT_VERSION
	github.com/openbao/openbao/api/v2 $OPENBAO_API_VERSION
	github.com/openbao/openbao/sdk/v2 $OPENBAO_SDK_VERSION
)
EOF
  cat >"$src/main.go" <<'EOF'
// Wrapper that builds the OpenBao server binary from its Go module (keyguard integration tests).
package main

import (
	"os"

	"github.com/openbao/openbao/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
EOF
  mkdir -p "$src/plugin"
  cat >"$src/plugin/tools.go" <<'EOF'
//go:build tools

// Keeps the AWS secrets plugin in the wrapper's module graph.
package plugin

import _ "github.com/openbao/openbao-plugins/secrets/aws"
EOF
  # (commands chained with && : `set -e` does not apply inside a function called from `if`)
  {
    cd "$src" &&
    go get "github.com/openbao/openbao@$OPENBAO_ROOT_VERSION" \
      "github.com/openbao/openbao/sdk/v2@$OPENBAO_SDK_VERSION" \
      "github.com/openbao/openbao/api/v2@$OPENBAO_API_VERSION" \
      "github.com/openbao/openbao-plugins@$OPENBAO_PLUGINS_VERSION" &&
    go mod tidy &&
    log "building OpenBao $OPENBAO_VERSION (this takes several minutes the first time)" &&
    go build -trimpath -ldflags "-s -w" -o "$dir/bin/bao.tmp" . &&
    mv -f "$dir/bin/bao.tmp" "$dir/bin/bao" &&
    log "building the AWS secrets plugin" &&
    go build -trimpath -ldflags "-s -w" -o "$dir/plugins/$OPENBAO_AWS_PLUGIN.tmp" \
      github.com/openbao/openbao-plugins/secrets/aws/cmd &&
    mv -f "$dir/plugins/$OPENBAO_AWS_PLUGIN.tmp" "$dir/plugins/$OPENBAO_AWS_PLUGIN"
  } >&2 || { cd - >/dev/null 2>&1; return 1; }
  cd - >/dev/null 2>&1 || true
  write_env openbao "$dir/bin/bao" "$dir/plugins" "$OPENBAO_AWS_PLUGIN"
  printf '%s\n' "$dir/bin/bao"
}

build_hashicorp_vault() {
  local dir="$vault_dir" src="$vault_dir/src"
  mkdir -p "$src" "$dir/bin" "$dir/plugins"
  # The vault module's own replace directives are ignored when it is a dependency: repeat the two
  # that point at other modules, and pin vault/sdk to the published version matching its ./sdk (so that
  # no other dependency's requirement lifts it to an incompatible newer sdk).
  cat >"$src/go.mod" <<EOF
module keyguard.local/vault-build

go 1.25.3

require github.com/hashicorp/vault $VAULT_VERSION

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1

replace github.com/hashicorp/vault/sdk => github.com/hashicorp/vault/sdk $VAULT_SDK_VERSION
EOF
  cat >"$src/main.go" <<'EOF'
// Wrapper that builds the HashiCorp Vault server binary from its Go module (keyguard integration tests).
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
EOF
  {
    cd "$src" &&
    log "resolving github.com/hashicorp/vault@$VAULT_VERSION and its dependencies" &&
    go mod tidy &&
    log "building HashiCorp Vault $VAULT_VERSION (this takes several minutes the first time)" &&
    go build -trimpath -ldflags "-s -w" -o "$dir/bin/vault.tmp" . &&
    mv -f "$dir/bin/vault.tmp" "$dir/bin/vault"
  } >&2 || { cd - >/dev/null 2>&1; return 1; }
  cd - >/dev/null 2>&1 || true
  write_env vault "$dir/bin/vault" "$dir/plugins" ""
  printf '%s\n' "$dir/bin/vault"
}

case "$FLAVOR" in
  openbao)
    reuse openbao "$openbao_dir" bao "$OPENBAO_AWS_PLUGIN"
    build_openbao || die "OpenBao $OPENBAO_VERSION could not be built (see the messages above)"
    ;;
  vault)
    reuse vault "$vault_dir" vault ""
    build_hashicorp_vault || die "HashiCorp Vault $VAULT_VERSION could not be built (see the messages above)"
    ;;
  auto)
    reuse openbao "$openbao_dir" bao "$OPENBAO_AWS_PLUGIN"
    reuse vault "$vault_dir" vault ""
    if build_openbao; then exit 0; fi
    log "OpenBao is not available from the Go module proxy here; falling back to HashiCorp Vault $VAULT_VERSION"
    build_hashicorp_vault || die "neither OpenBao $OPENBAO_VERSION nor HashiCorp Vault $VAULT_VERSION could be built"
    ;;
  *) die "KEYGUARD_VAULT_FLAVOR must be auto, openbao or vault, not '$FLAVOR'" ;;
esac
