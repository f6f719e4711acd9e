//go:build tools

// aperture (the LNC mailbox) in a module of its own: v0.4.0 needs lnd/tor v1.1.6, and litd
// v0.17.1-alpha (the parent module) needs v1.1.7, whose onion API changed (tor.V3, AddOnionConfig.Type).
package tools

import _ "github.com/lightninglabs/aperture/cmd/aperture"
