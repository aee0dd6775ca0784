#!/usr/bin/env bash
# Build, or reuse from the cache, keyguard's offline Pulumi toolchain and print where it is:
#
#   KEYGUARD_PULUMI_BIN=<dir with pulumi, pulumi-language-python, pulumi-language-python-exec>
#   PULUMI_HOME=<private home with the aws and vault providers installed>
#
# The real CLI is github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at the version toolchain/go/go.mod pins
# (a `tool` directive; no upstream file is copied into the repo); the Python language host is ours
# (toolchain/go/cmd/pulumi-language-python); the providers `aws` and `vault` are ours
# (toolchain/providers), installed as launchers running the repository's .venv python, at the
# pulumi-aws / pulumi-vault versions of requirements.lock.
#
# Cache: ${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}/pulumi/cli-<version>-<hash of the Go sources and
# go version> and .../home-<hash of the provider launchers>; a stamp file marks a finished build, a
# flock serialises concurrent builds. Reuse costs a few file checks.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cache="${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}/pulumi"
python="${KEYGUARD_PROVIDER_PYTHON:-$repo/.venv/bin/python}"

die() { echo "toolchain/build.sh: $*" >&2; exit 2; }
command -v go >/dev/null || die "go not found (Go builds the Pulumi CLI; toolchain/go/go.mod names the version)"
command -v flock >/dev/null || die "flock not found (util-linux)"
[ -x "$python" ] || die "$python missing: run 'make venv' first"

cli_version="$(awk '$1=="github.com/pulumi/pulumi/pkg/v3" {print $2; exit}' "$here/go/go.mod")"
[ -n "$cli_version" ] || die "no github.com/pulumi/pulumi/pkg/v3 version in toolchain/go/go.mod"
aws_version="$(sed -n 's/^pulumi[-_]aws==//p' "$repo/requirements.lock")"
vault_version="$(sed -n 's/^pulumi[-_]vault==//p' "$repo/requirements.lock")"
[ -n "$aws_version" ] && [ -n "$vault_version" ] || die "pulumi_aws / pulumi_vault pins missing in requirements.lock"

hash_of() { sha256sum | cut -c1-16; }
go_key="$( { go version; cat "$here/go/go.mod" "$here/go/go.sum"; find "$here/go/cmd" -type f -name '*.go' | sort | xargs cat; } | hash_of)"
cli_dir="$cache/cli-$cli_version-$go_key"
bin="$cli_dir/bin"
# Providers are launchers: keyed by what they run (this repository's python and sources) and the versions.
home_key="$( { echo "$cli_dir" "$python" "$here/providers" "$aws_version" "$vault_version"; } | hash_of)"
home="$cache/home-$home_key"

cli_ready() {
    [ -f "$cli_dir/.stamp" ] && [ "$(cat "$cli_dir/.stamp")" = "$cli_version $go_key" ] \
        && [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-python" ] && [ -f "$bin/pulumi-language-python-exec" ]
}
home_ready() {
    [ -f "$home/.stamp" ] && [ "$(cat "$home/.stamp")" = "$home_key aws-$aws_version vault-$vault_version" ]
}

build_cli() {
    local tmp="$cli_dir.tmp"
    rm -rf "$tmp" && mkdir -p "$tmp/bin"
    echo "toolchain/build.sh: building the Pulumi CLI $cli_version and the language host (several minutes cold)" >&2
    local start=$SECONDS
    (
        cd "$here/go"
        export GOFLAGS="${GOFLAGS:-} -mod=readonly"
        go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version" \
            -o "$tmp/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
        go build -trimpath -ldflags "-s -w -X main.version=${cli_version#v}" \
            -o "$tmp/bin/pulumi-language-python" ./cmd/pulumi-language-python
        sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
        install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$tmp/bin/pulumi-language-python-exec"
    ) >&2
    echo "$cli_version $go_key" > "$tmp/.stamp"
    rm -rf "$cli_dir" && mv "$tmp" "$cli_dir"
    echo "toolchain/build.sh: CLI built in $((SECONDS - start)) s" >&2
}

build_home() {
    local tmp="$home.tmp"
    rm -rf "$tmp" && mkdir -p "$tmp/launchers"
    for package in aws vault; do
        local launcher="$tmp/launchers/pulumi-resource-$package"
        cat > "$launcher" <<EOF
#!/bin/sh
# keyguard's offline '$package' provider (toolchain/providers/keyguard_providers/$package.py)
PYTHONPATH="$here/providers\${PYTHONPATH:+:\$PYTHONPATH}" exec "$python" -u -m keyguard_providers.$package "\$@"
EOF
        chmod 0755 "$launcher"
    done
    PULUMI_HOME="$tmp" PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" plugin install resource aws "$aws_version" \
        --file "$tmp/launchers/pulumi-resource-aws" >&2
    PULUMI_HOME="$tmp" PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" plugin install resource vault "$vault_version" \
        --file "$tmp/launchers/pulumi-resource-vault" >&2
    echo "$home_key aws-$aws_version vault-$vault_version" > "$tmp/.stamp"
    rm -rf "$home" && mv "$tmp" "$home"
}

if ! cli_ready || ! home_ready; then
    mkdir -p "$cache"
    exec 9>"$cache/.build.lock"
    flock 9
    cli_ready || build_cli
    home_ready || build_home
    flock -u 9
fi

echo "KEYGUARD_PULUMI_BIN=$bin"
echo "PULUMI_HOME=$home"
