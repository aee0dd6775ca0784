#!/usr/bin/env bash
# Create (once) LocalStack's own Python 3.13 virtualenv in the cache dir from the pinned
# localstack/requirements-localstack.txt, and print the path of its python.
#   ${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}/localstack-venv-<hash of the requirements>/
# The interpreter is taken from $KEYGUARD_PYTHON313, else `python3.13` on PATH, else pyenv's 3.13.x.
# Re-running reuses a complete venv (idempotent). The last line on stdout is the venv's python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements-localstack.txt"
CACHE_DIR="${KEYGUARD_CACHE_DIR:-$HOME/.cache/keyguard}"

log() { printf 'setup-localstack: %s\n' "$*" >&2; }
die() { printf 'setup-localstack: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$requirements" ]] || die "missing $requirements"
req_hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="$CACHE_DIR/localstack-venv-$req_hash"
marker="$venv/.keyguard-complete"

mkdir -p "$CACHE_DIR"
# One setup at a time (parallel test workers): the others wait, then reuse it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.localstack-venv.lock"
  flock 9
fi

if [[ -f "$marker" && -x "$venv/bin/python" ]]; then
  log "reusing LocalStack venv at $venv"
  printf '%s\n' "$venv/bin/python"
  exit 0
fi

is_313() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }

python313=()
if [[ -n "${KEYGUARD_PYTHON313:-}" ]]; then
  is_313 "$KEYGUARD_PYTHON313" || die "KEYGUARD_PYTHON313=$KEYGUARD_PYTHON313 is not a working Python 3.13"
  python313=("$KEYGUARD_PYTHON313")
elif is_313 python3.13; then
  python313=(python3.13)
elif command -v pyenv >/dev/null 2>&1; then
  # pyenv's shim refuses python3.13 when 3.13 is not the selected version: ask pyenv for it by name.
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -V -r); do
    candidate="$(pyenv root)/versions/$version/bin/python3.13"
    if is_313 "$candidate"; then python313=("$candidate"); break; fi
  done
fi
if [[ ${#python313[@]} -eq 0 ]]; then
  die "Python 3.13 is missing: LocalStack (localstack-core 2026.3.0) needs it (3.11 fails on PEP 695 syntax, 3.12 on warnings.deprecated). Install it (for example 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv') or point KEYGUARD_PYTHON313 at one."
fi

log "creating LocalStack venv at $venv with ${python313[*]}"
rm -rf "$venv"
mkdir -p "$CACHE_DIR"
"${python313[@]}" -m venv "$venv" || die "could not create a venv with ${python313[*]} (is the venv module installed?)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 \
  || die "could not upgrade pip in $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2 \
  || die "pip could not install $requirements into $venv"
"$venv/bin/python" -c 'import localstack.runtime.main, localstack.config' \
  || die "localstack-core is installed but does not import in $venv"
touch "$marker"
printf '%s\n' "$venv/bin/python"
