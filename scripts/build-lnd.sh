#!/usr/bin/env bash
# Builds the real Lightning nodes the tests and `npm start -- --lightning lnd` use:
# lnd + lncli (github.com/lightningnetwork/lnd, version pinned in infra/lnd/go.mod) and
# btcd + btcctl at the version lnd itself pins. Everything comes from the Go module proxy;
# binaries go to infra/bin/ (ignored). A second run reuses them while go.mod/go.sum, the
# Go version and the build tags are unchanged.
#   scripts/build-lnd.sh          build if needed
#   scripts/build-lnd.sh --force  rebuild
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mod="$root/infra/lnd"
bin="$root/infra/bin"
tags="signrpc walletrpc chainrpc invoicesrpc routerrpc peersrpc"

command -v go >/dev/null 2>&1 || { echo "build-lnd: Go is not installed (need Go >= 1.25; see docs/lightning.md)" >&2; exit 1; }

stamp="$( (cat "$mod/go.mod" "$mod/go.sum"; go version; echo "$tags") | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -f "$bin/.stamp" ] && [ "$(cat "$bin/.stamp")" = "$stamp" ] \
	&& [ -x "$bin/lnd" ] && [ -x "$bin/lncli" ] && [ -x "$bin/btcd" ] && [ -x "$bin/btcctl" ]; then
	echo "build-lnd: reusing infra/bin ($("$bin/lnd" --version 2>/dev/null | head -1))"
	exit 0
fi

mkdir -p "$bin"
rm -f "$bin/.stamp"
cd "$mod"
cache="$(go env GOCACHE)"
# "warm" when Go's build cache already holds a build's worth (lnd's dependencies alone are ~1 GB of it).
cachemb=$(du -sm "$cache" 2>/dev/null | cut -f1 || echo 0)
if [ "${cachemb:-0}" -gt 500 ]; then cachestate="warm (${cachemb} MB)"; else cachestate="cold (${cachemb:-0} MB)"; fi
t0=$(date +%s)
echo "build-lnd: downloading modules (go mod download)"
go mod download
t1=$(date +%s)
echo "build-lnd: building lnd + lncli (tags: $tags; Go build cache $cachestate)"
# -trimpath keeps local paths out of the binaries; lnd's version string comes from its own build info.
go build -trimpath -tags "$tags" -o "$bin/" github.com/lightningnetwork/lnd/cmd/lnd github.com/lightningnetwork/lnd/cmd/lncli
t2=$(date +%s)
echo "build-lnd: building btcd + btcctl ($(go list -m -f '{{.Version}}' github.com/btcsuite/btcd))"
go build -trimpath -o "$bin/" github.com/btcsuite/btcd github.com/btcsuite/btcd/cmd/btcctl
t3=$(date +%s)
echo "$stamp" > "$bin/.stamp"
echo "build-lnd: done in $((t3 - t0)) s (modules $((t1 - t0)) s, lnd+lncli $((t2 - t1)) s, btcd+btcctl $((t3 - t2)) s; build cache was $cachestate)"
"$bin/lnd" --version | head -1
