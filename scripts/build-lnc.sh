#!/usr/bin/env bash
# Builds the Lightning Node Connect stack the LNC tests and `npm start -- --lightning lnd --lnc` use,
# all from the Go module proxy, pinned by infra/lnc/go.mod + go.sum:
#   aperture  (github.com/lightninglabs/aperture v0.4.0: the hashmail mailbox; module infra/lnc/aperture,
#              because it needs lnd v0.20.0-beta's tor package and litd lnd v0.21.2-beta's)   -> infra/bin/
#   litd, litcli (github.com/lightninglabs/lightning-terminal v0.17.1-alpha,
#                 tag litd_no_ui, run in remote mode against our LND)              -> infra/bin/
#   the LNC wasm client (infra/lnc/wasm-client: Lightcharge's own, for lnc-web 0.3.6-alpha,
#                 GOOS=js GOARCH=wasm)                                               -> static/lnc/
#   lnc-server (infra/lnc/lnc-server: the project's own node side of one LNC session, which the
#                 devnet uses while litd does not build)                              -> infra/bin/
# litd pins lightning-node-connect pseudo-versions the proxy refuses (403); infra/lnc/go.mod
# replaces them with the tagged releases it serves (gbn v1.0.1, mailbox v1.0.1, hashmailrpc v1.0.3).
# lightning-terminal's perms v1.0.1 and autopilotserverrpc v0.0.3 are not in sum.golang.org, so
# GONOSUMDB covers lightning-terminal: their checksums are the ones pinned in infra/lnc/go.sum.
# Outputs are reused while go.mod/go.sum, the wasm client's source, the Go version and the tags
# are unchanged (stamp infra/bin/.stamp-lnc).
#   scripts/build-lnc.sh          build if needed
#   scripts/build-lnc.sh --force  rebuild
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mod="$root/infra/lnc"
bin="$root/infra/bin"
wasmdir="$root/static/lnc"
tags="litd_no_ui signrpc walletrpc chainrpc invoicesrpc routerrpc peersrpc"

command -v go >/dev/null 2>&1 || { echo "build-lnc: Go is not installed (need Go >= 1.25; see docs/lightning.md)" >&2; exit 1; }
export GONOSUMDB="github.com/lightninglabs/lightning-terminal${GONOSUMDB:+,$GONOSUMDB}"
export GOFLAGS="-mod=readonly${GOFLAGS:+ $GOFLAGS}"

stamp="$( (cat "$mod/go.mod" "$mod/go.sum" "$mod/aperture/go.mod" "$mod/aperture/go.sum" "$mod"/wasm-client/*.go "$mod"/lnc-server/*.go; go version; echo "$tags") | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -f "$bin/.stamp-lnc" ] && [ "$(cat "$bin/.stamp-lnc")" = "$stamp" ] \
	&& [ -x "$bin/aperture" ] && [ -x "$bin/lnc-server" ] && [ -x "$bin/litd" ] && [ -x "$bin/litcli" ] && [ -s "$wasmdir/wasm-client.wasm" ]; then
	echo "build-lnc: reusing infra/bin (aperture, litd, litcli) and static/lnc/wasm-client.wasm"
	exit 0
fi

mkdir -p "$bin" "$wasmdir"
rm -f "$bin/.stamp-lnc"
cd "$mod"
cache="$(go env GOCACHE)"
cachemb=$(du -sm "$cache" 2>/dev/null | cut -f1 || echo 0)
if [ "${cachemb:-0}" -gt 500 ]; then cachestate="warm (${cachemb} MB)"; else cachestate="cold (${cachemb:-0} MB)"; fi
t0=$(date +%s)
echo "build-lnc: downloading modules (go mod download)"
go mod download
t1=$(date +%s)
echo "build-lnc: building the LNC wasm client (GOOS=js GOARCH=wasm; Go build cache $cachestate)"
# -s -w: no symbol table or DWARF, which the browser never uses (about a third of the size).
GOOS=js GOARCH=wasm go build -trimpath -ldflags "-s -w" -o "$wasmdir/wasm-client.wasm.tmp" ./wasm-client
mv "$wasmdir/wasm-client.wasm.tmp" "$wasmdir/wasm-client.wasm"
t2=$(date +%s)
# aperture v0.4.0 needs lnd/tor v1.1.6; litd needs v1.1.7 (its onion API changed): a module of its own.
(
	cd "$mod/aperture"
	go mod download
	echo "build-lnc: building aperture ($(go list -m -f '{{.Version}}' github.com/lightninglabs/aperture), with lnd $(go list -m -f '{{.Version}}' github.com/lightningnetwork/lnd))"
	go build -trimpath -o "$bin/" github.com/lightninglabs/aperture/cmd/aperture
)
# The project's own node side of one LNC session (infra/lnc/lnc-server), used by the devnet while litd does not build.
go build -trimpath -o "$bin/" ./lnc-server
t3=$(date +%s)
echo "build-lnc: building litd + litcli ($(go list -m -f '{{.Version}}' github.com/lightninglabs/lightning-terminal); tags: $tags)"
if ! go build -trimpath -tags "$tags" -o "$bin/" \
	github.com/lightninglabs/lightning-terminal/cmd/litd github.com/lightninglabs/lightning-terminal/cmd/litcli; then
	cat >&2 <<'MSG'
build-lnc: litd did not build (the wasm client, aperture and lnc-server did). Known cause (2026-12-03): lightning-terminal
v0.17.1-alpha's nested module litrpc at the release commit is refused by the Go module proxy (403), and the
litrpc releases it serves (v1.0.2 pinned, v1.0.3, v1.0.4, v1.0.6) lack what accounts/rpcserver.go uses
(litrpc.AccountPaymentsRequest/Response). See docs/lightning.md, "Lightning Node Connect on the devnet".
MSG
	echo "{\"lncBuild\":{\"modulesS\":$((t1 - t0)),\"wasmS\":$((t2 - t1)),\"apertureS\":$((t3 - t2)),\"litd\":\"failed\",\"cache\":\"${cachestate%% *}\"}}"
	exit 1
fi
t4=$(date +%s)
echo "$stamp" > "$bin/.stamp-lnc"
raw=$(stat -c %s "$wasmdir/wasm-client.wasm")
gz=$(gzip -9 -c "$wasmdir/wasm-client.wasm" | wc -c)
echo "build-lnc: done in $((t4 - t0)) s (modules $((t1 - t0)) s, wasm $((t2 - t1)) s, aperture $((t3 - t2)) s, litd+litcli $((t4 - t3)) s; build cache was $cachestate)"
echo "{\"lncBuild\":{\"totalS\":$((t4 - t0)),\"modulesS\":$((t1 - t0)),\"wasmS\":$((t2 - t1)),\"apertureS\":$((t3 - t2)),\"litdS\":$((t4 - t3)),\"cache\":\"${cachestate%% *}\"},\"wasmBytes\":$raw,\"wasmGzipBytes\":$gz}"
