//go:build js && wasm

package main

// What LND requires for the methods a wallet calls (lnd v0.21.2-beta: rpcserver.go
// MainRPCServerPermissions, routerrpc and invoicesrpc macaroon permissions), keyed by lnc-web's
// method names. wasmClientHasPerms answers false for a method missing here.
var methodPermissions = map[string][]string{
	"lnrpc.Lightning.GetInfo":                     {"info:read"},
	"lnrpc.Lightning.ChannelBalance":              {"offchain:read"},
	"lnrpc.Lightning.WalletBalance":               {"onchain:read"},
	"lnrpc.Lightning.ListChannels":                {"offchain:read"},
	"lnrpc.Lightning.PendingChannels":             {"offchain:read"},
	"lnrpc.Lightning.OpenChannelSync":             {"onchain:write", "offchain:write"},
	"lnrpc.Lightning.AddInvoice":                  {"invoices:write"},
	"lnrpc.Lightning.LookupInvoice":               {"invoices:read"},
	"lnrpc.Lightning.ListInvoices":                {"invoices:read"},
	"lnrpc.Lightning.DecodePayReq":                {"offchain:read"},
	"lnrpc.Lightning.ListPayments":                {"offchain:read"},
	"lnrpc.Lightning.ListPeers":                   {"peers:read"},
	"routerrpc.Router.SendPaymentV2":              {"offchain:write"},
	"routerrpc.Router.TrackPaymentV2":             {"offchain:read"},
	"invoicesrpc.Invoices.SubscribeSingleInvoice": {"invoices:read"},
}
