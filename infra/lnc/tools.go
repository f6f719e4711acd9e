//go:build tools

// The programs this module builds (scripts/build-lnc.sh; aperture is built from ./aperture, a module of its own). Importing their main packages here keeps
// `go mod tidy` from dropping them; nothing imports this file.
package tools

import (
	_ "github.com/lightninglabs/lightning-terminal/cmd/litcli"
	_ "github.com/lightninglabs/lightning-terminal/cmd/litd"
)
