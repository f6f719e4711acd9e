// lnc-server: the node side of one Lightning Node Connect session, for the devnet while Lightning
// Terminal (litd) cannot be built from the Go module proxy (docs/lightning.md). It makes a fresh
// pairing phrase, waits on the hashmail mailbox for the wallet, does LNC's Noise handshake with
// lightning-node-connect's mailbox package (v1.0.1), hands the wallet the macaroon it was given as
// auth data, and forwards every gRPC call to one LND unchanged (LND checks the macaroon: the
// session can do exactly what that macaroon allows). One process serves one pairing; it keeps the
// wallet's static key in memory, so the wallet logs in again while the process runs.
//
// Not litd: no session store, no accounts, no RPC middleware, no privacy mapper.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/lightninglabs/lightning-node-connect/mailbox"
	"github.com/lightningnetwork/lnd/keychain"
	"github.com/mwitkow/grpc-proxy/proxy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

func main() {
	mailboxAddr := flag.String("mailbox", "", "host:port of the hashmail mailbox")
	devServer := flag.Bool("devserver", false, "do not verify the mailbox's TLS certificate (a self-signed devnet one)")
	lndAddr := flag.String("lnd", "", "host:port of LND's gRPC")
	lndCert := flag.String("lnd-tlscert", "", "LND's tls.cert")
	macFile := flag.String("macaroon-hex-file", "", "file with the hex macaroon the wallet gets")
	flag.Parse()
	if *mailboxAddr == "" || *lndAddr == "" || *lndCert == "" || *macFile == "" {
		fail("need --mailbox, --lnd, --lnd-tlscert and --macaroon-hex-file")
	}
	macRaw, err := os.ReadFile(*macFile)
	if err != nil {
		fail("reading the macaroon: %v", err)
	}
	macHex := strings.TrimSpace(string(macRaw))

	words, entropy, err := mailbox.NewPassphraseEntropy()
	if err != nil {
		fail("making a pairing phrase: %v", err)
	}
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		fail("making a key: %v", err)
	}
	connData := mailbox.NewConnData(
		&keychain.PrivKeyECDH{PrivKey: priv}, nil, entropy[:], []byte("Macaroon: "+macHex),
		func(key *btcec.PublicKey) error {
			fmt.Fprintf(os.Stderr, "lnc-server: paired with %x\n", key.SerializeCompressed())
			return nil
		}, nil,
	)

	lndCreds, err := credentials.NewClientTLSFromFile(*lndCert, "")
	if err != nil {
		fail("reading LND's certificate: %v", err)
	}
	lndConn, err := grpc.NewClient(*lndAddr, grpc.WithTransportCredentials(lndCreds))
	if err != nil {
		fail("connecting to LND: %v", err)
	}

	listener, err := mailbox.NewServer(*mailboxAddr, connData,
		func(s mailbox.ServerStatus) { fmt.Fprintf(os.Stderr, "lnc-server: mailbox %s\n", s) },
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: *devServer})), //nolint:gosec
	)
	if err != nil {
		fail("using the mailbox: %v", err)
	}
	noise := mailbox.NewNoiseGrpcConn(connData)
	server := grpc.NewServer(grpc.Creds(noise), grpc.UnknownServiceHandler(proxy.TransparentHandler(proxy.DefaultDirector(lndConn))))

	out, _ := json.Marshal(map[string]string{"pairingPhrase": strings.Join(words[:], " ")})
	fmt.Println(string(out))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		server.Stop()
		_ = listener.Close()
	}()
	if err := server.Serve(listener); err != nil && ctx.Err() == nil {
		fail("serving: %v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "lnc-server: "+format+"\n", args...)
	os.Exit(1)
}
