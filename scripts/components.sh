#!/usr/bin/env bash
# Installs and starts the real components Portcullis is built and tested against.
# Idempotent; everything downloaded or built is cached under $PORTCULLIS_CACHE_DIR
# (default: <repo>/.cache), so a second run is fast.
#
#   scripts/components.sh install opa     build the opa binary (go install) unless cached
#   scripts/components.sh path opa        print the path of the opa binary (installs first)
#   scripts/components.sh install wrk     the HTTP load generator the benchmarks use (Debian package)
#   scripts/components.sh install all     every component the tests need
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${PORTCULLIS_CACHE_DIR:-$repo_root/.cache}"
tools_bin="$cache_dir/tools/bin"
OPA_VERSION="${PORTCULLIS_OPA_VERSION:-v1.22.3}"

log() { echo "[components] $*" >&2; }

opa_path() { echo "$tools_bin/opa-$OPA_VERSION"; }

install_opa() {
  local target; target="$(opa_path)"
  if [[ -x "$target" ]] && "$target" version >/dev/null 2>&1; then
    log "opa $OPA_VERSION: cached at $target"
    return
  fi
  command -v go >/dev/null || { log "error: go is required to build opa (https://go.dev)"; exit 1; }
  log "opa $OPA_VERSION: building with 'go install' (first run only, a few minutes)…"
  mkdir -p "$tools_bin" "$cache_dir/go"
  local gobin; gobin="$(mktemp -d "$cache_dir/go/bin.XXXXXX")"
  # A private module and build cache keeps the build reproducible and the cache in one place.
  GOBIN="$gobin" GOMODCACHE="${GOMODCACHE:-$cache_dir/go/mod}" GOCACHE="${GOCACHE:-$cache_dir/go/build}" \
    GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION" &
  local build=$! started=$SECONDS
  while kill -0 "$build" 2>/dev/null; do
    sleep 5
    kill -0 "$build" 2>/dev/null && (( (SECONDS - started) % 15 < 5 )) && log "opa: still building ($((SECONDS - started)) s)…"
  done
  wait "$build" || { log "error: building opa failed (see the go output above)"; exit 1; }
  mv "$gobin/opa" "$target"
  rmdir "$gobin"
  log "opa $OPA_VERSION: installed at $target ($("$target" version | head -1))"
}

apt_updated=""
# Installs Debian packages that are missing; apt's index is refreshed once per run.
install_debian_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && { log "debian packages present: $*"; return; }
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if [[ -z "$apt_updated" ]]; then
    log "apt-get update…"
    $sudo apt-get update -qq
    apt_updated=1
  fi
  log "installing debian packages: ${missing[*]}…"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "installed: ${missing[*]}"
}

cmd="${1:-}"; what="${2:-}"
case "$cmd:$what" in
  install:opa) install_opa ;;
  install:wrk) install_debian_packages wrk ;;
  install:all) install_opa ;;
  path:opa) install_opa >/dev/null 2>&1 || install_opa; opa_path ;;
  *) echo "usage: $0 install opa|wrk|all | path opa" >&2; exit 2 ;;
esac
