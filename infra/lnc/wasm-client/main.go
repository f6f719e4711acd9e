//go:build js && wasm

// Lightcharge's own Lightning Node Connect WebAssembly client, for @lightninglabs/lnc-web 0.3.6-alpha.
//
// lnc-web loads a Go wasm program and talks to it through functions the program puts on
// globalThis[namespace] (wasmClientIsReady, wasmClientConnectServer, wasmClientInvokeRPC, ...) and
// through callbacks it names on the command line (--onlocalprivcreate=ns.onLocalPrivCreate, ...).
// Upstream's program (lightning-node-connect/cmd/wasm-client) is a nested Go module the module
// proxy does not serve, so this one is written here against the same public interface, on the
// mailbox package of lightning-node-connect (mailbox v1.0.1, the tagged release nearest to what
// lnc v0.3.6-alpha pins; v1.0.0 is refused by the proxy) and lnd's generated JSON callbacks.
//
// Differences from upstream that a caller can notice, all on purpose:
//   - bad input (a wrong word, a malformed key, a call before connecting) is answered with a
//     sentence and the program keeps running; upstream exits, which kills the wasm instance;
//   - wasmClientDisconnect cancels the connection's context, so pending dials and open streams end
//     (their callbacks get "context canceled") instead of running on for the page's lifetime;
//   - wasmClientIsConnected is true only while the gRPC connection over the mailbox is ready or
//     idle, not merely "a connection object exists";
//   - wasmClientHasPerms knows the methods in permissions.go; any other answers false.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall/js"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btclog/v2"
	"github.com/lightninglabs/lightning-node-connect/gbn"
	"github.com/lightninglabs/lightning-node-connect/mailbox"
	"github.com/lightningnetwork/lnd/aezeed"
	"github.com/lightningnetwork/lnd/keychain"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/chainrpc"
	"github.com/lightningnetwork/lnd/lnrpc/invoicesrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"github.com/lightningnetwork/lnd/lnrpc/signrpc"
	"github.com/lightningnetwork/lnd/lnrpc/verrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon-bakery.v2/bakery"
	"gopkg.in/macaroon-bakery.v2/bakery/checkers"
	"gopkg.in/macaroon.v2"
)

const (
	// Limits on what the page may hand us.
	maxServerHostLen = 255
	maxPhraseLen     = 200
	maxRPCNameLen    = 128
	maxRequestBytes  = 1 << 20
	// Largest answer accepted from the node (upstream allows 200 MB; a wallet needs far less).
	maxRecvMsgBytes = 32 << 20
)

type rpcFunc = func(ctx context.Context, conn *grpc.ClientConn, reqJSON string, callback func(string, error))

// The services a page may call, by lnc-web's names ("lnrpc.Lightning.GetInfo").
var registrations = []func(map[string]rpcFunc){
	lnrpc.RegisterLightningJSONCallbacks,
	lnrpc.RegisterStateJSONCallbacks,
	invoicesrpc.RegisterInvoicesJSONCallbacks,
	routerrpc.RegisterRouterJSONCallbacks,
	chainrpc.RegisterChainNotifierJSONCallbacks,
	signrpc.RegisterSignerJSONCallbacks,
	walletrpc.RegisterWalletKitJSONCallbacks,
	verrpc.RegisterVersionerJSONCallbacks,
}

var (
	hostPattern    = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$`)
	rpcNamePattern = regexp.MustCompile(`^(\w+)\.(\w+)\.(\w+)$`)
)

type config struct {
	namespace          string
	onLocalPrivCreate  string
	onRemoteKeyReceive string
	onAuthData         string
	debugLevel         string
}

// connection is one attempt to reach the node through the mailbox; a new connect replaces it.
type connection struct {
	ctx    context.Context
	cancel context.CancelFunc
	status func() mailbox.ClientStatus
	conn   *grpc.ClientConn // nil until the handshake with the node completed
	err    error            // why this attempt ended, if it did
}

type client struct {
	cfg      config
	registry map[string]rpcFunc

	mu  sync.Mutex
	cur *connection
	mac *macaroon.Macaroon
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Printf("wasm-client: %v\n", err)
		os.Exit(1)
	}
	setupLogging(cfg.debugLevel)

	c := &client{cfg: cfg, registry: make(map[string]rpcFunc)}
	for _, register := range registrations {
		register(c.registry)
	}

	api := js.ValueOf(map[string]interface{}{})
	// lnc-web may already have put its callbacks on the namespace object: keep them.
	if existing := js.Global().Get(cfg.namespace); existing.Type() == js.TypeObject {
		api = existing
	}
	api.Set("wasmClientIsReady", js.FuncOf(func(js.Value, []js.Value) interface{} { return true }))
	api.Set("wasmClientConnectServer", js.FuncOf(c.connectServer))
	api.Set("wasmClientIsConnected", js.FuncOf(c.isConnected))
	api.Set("wasmClientDisconnect", js.FuncOf(c.disconnect))
	api.Set("wasmClientInvokeRPC", js.FuncOf(c.invokeRPC))
	api.Set("wasmClientStatus", js.FuncOf(c.statusText))
	api.Set("wasmClientGetExpiry", js.FuncOf(c.expiry))
	api.Set("wasmClientHasPerms", js.FuncOf(c.hasPerms))
	api.Set("wasmClientIsReadOnly", js.FuncOf(c.isReadOnly))
	js.Global().Set(cfg.namespace, api)

	fmt.Printf("wasm-client: ready (namespace %s, %d methods)\n", cfg.namespace, len(c.registry))
	select {} // the page owns our lifetime
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("wasm-client", flag.ContinueOnError)
	fs.StringVar(&cfg.namespace, "namespace", "default", "global object the functions are put on")
	fs.StringVar(&cfg.onLocalPrivCreate, "onlocalprivcreate", "", "JS function told the new local private key (hex)")
	fs.StringVar(&cfg.onRemoteKeyReceive, "onremotekeyreceive", "", "JS function told the node's static public key (hex)")
	fs.StringVar(&cfg.onAuthData, "onauthdata", "", "JS function told the session's auth data")
	fs.StringVar(&cfg.debugLevel, "debuglevel", "info", "log level, lnd style (debug,GOBN=info,...)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if !regexp.MustCompile(`^[A-Za-z_$][\w$]{0,63}$`).MatchString(cfg.namespace) {
		return cfg, fmt.Errorf("the namespace %q is not a plain JavaScript name", cfg.namespace)
	}
	return cfg, nil
}

// setupLogging applies lnd-style levels ("debug,GOBN=info") to the mailbox and go-back-n loggers.
func setupLogging(spec string) {
	handler := btclog.NewDefaultHandler(os.Stdout)
	levels := map[string]string{}
	global := "info"
	for _, part := range strings.Split(spec, ",") {
		if k, v, ok := strings.Cut(part, "="); ok {
			levels[strings.ToUpper(k)] = v
		} else if part != "" {
			global = part
		}
	}
	for _, sub := range []struct {
		name string
		use  func(btclog.Logger)
	}{{mailbox.Subsystem, mailbox.UseLogger}, {gbn.Subsystem, gbn.UseLogger}} {
		logger := btclog.NewSLogger(handler.SubSystem(sub.name))
		lvl := global
		if v, ok := levels[sub.name]; ok {
			lvl = v
		}
		if l, ok := btclog.LevelFromString(lvl); ok {
			logger.SetLevel(l)
		}
		sub.use(logger)
	}
}

func errorValue(err error) js.Value { return js.ValueOf(err.Error()) }

// connectServer(serverHost, isDevServer, pairingPhrase, localKeyHex, remoteKeyHex) starts
// connecting and returns at once (null), or returns a sentence when the input is unusable.
func (c *client) connectServer(_ js.Value, args []js.Value) interface{} {
	if len(args) != 5 {
		return "wasmClientConnectServer needs 5 arguments: server host, isDevServer, pairing phrase, local key, remote key"
	}
	for i, want := range []js.Type{js.TypeString, js.TypeBoolean, js.TypeString, js.TypeString, js.TypeString} {
		if args[i].Type() != want {
			return fmt.Sprintf("wasmClientConnectServer: argument %d must be a %s", i+1, want)
		}
	}
	server, phrase, localHex, remoteHex := args[0].String(), args[2].String(), args[3].String(), args[4].String()

	fail := func(err error) interface{} {
		c.mu.Lock()
		c.replace(&connection{err: err, ctx: context.Background(), cancel: func() {}})
		c.mu.Unlock()
		return errorValue(err)
	}
	if err := checkServerHost(server); err != nil {
		return fail(err)
	}
	entropy, err := phraseEntropy(phrase)
	if err != nil {
		return fail(err)
	}
	localKey, remoteKey, err := c.parseKeys(localHex, remoteHex)
	if err != nil {
		return fail(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	attempt := &connection{ctx: ctx, cancel: cancel}
	connData := mailbox.NewConnData(localKey, remoteKey, entropy[:], nil,
		func(key *btcec.PublicKey) error {
			return callJS(c.cfg.onRemoteKeyReceive, hex.EncodeToString(key.SerializeCompressed()))
		},
		func(data []byte) error { return c.onAuthData(data) },
	)
	transport, err := mailbox.NewWebsocketsClient(ctx, server, connData)
	if err != nil {
		cancel()
		return fail(fmt.Errorf("cannot use the mailbox at %s: %w", server, err))
	}
	attempt.status = transport.ConnStatus
	noise := mailbox.NewNoiseGrpcConn(connData)

	c.mu.Lock()
	c.replace(attempt)
	c.mu.Unlock()

	// The dial blocks until the node answered through the mailbox, so it runs apart from the
	// JS event loop (syscall/js functions must return promptly).
	go func() {
		conn, err := grpc.DialContext(ctx, server,
			grpc.WithContextDialer(transport.Dial),
			grpc.WithTransportCredentials(noise),
			grpc.WithPerRPCCredentials(noise),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsgBytes)),
			grpc.WithBlock(),
		)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.cur != attempt {
			// Replaced or disconnected meanwhile.
			if conn != nil {
				_ = conn.Close()
			}
			return
		}
		if err != nil {
			attempt.err = err
			fmt.Printf("wasm-client: connecting through %s failed: %v\n", server, err)
			return
		}
		attempt.conn = conn
		fmt.Printf("wasm-client: connected to the node through %s\n", server)
	}()
	return nil
}

// replace ends the current connection (if any) and makes next current. Caller holds c.mu.
func (c *client) replace(next *connection) {
	if prev := c.cur; prev != nil {
		prev.cancel()
		if prev.conn != nil {
			_ = prev.conn.Close()
		}
	}
	c.cur = next
}

func checkServerHost(server string) error {
	if server == "" || len(server) > maxServerHostLen || !hostPattern.MatchString(server) {
		return fmt.Errorf("the mailbox address %q is not host:port (for example mailbox.example.org:443)", truncate(server, 60))
	}
	return nil
}

func phraseEntropy(phrase string) ([mailbox.NumPassphraseEntropyBytes]byte, error) {
	var zero [mailbox.NumPassphraseEntropyBytes]byte
	if len(phrase) > maxPhraseLen {
		return zero, errors.New("the pairing phrase is too long: it has 10 words")
	}
	words := strings.Fields(phrase)
	if len(words) != mailbox.NumPassphraseWords {
		return zero, fmt.Errorf("the pairing phrase has %d words; it must have %d", len(words), mailbox.NumPassphraseWords)
	}
	var w [mailbox.NumPassphraseWords]string
	for i, word := range words {
		if _, ok := aezeed.ReverseWordMap[word]; !ok {
			return zero, fmt.Errorf("word %d of the pairing phrase (%q) is not a pairing-phrase word", i+1, truncate(word, 20))
		}
		w[i] = word
	}
	return mailbox.PassphraseMnemonicToEntropy(w), nil
}

// parseKeys: no keys = a new pairing (a key is made and handed to the page); a local key alone =
// pairing again with a kept key; both = logging in to an existing pairing.
func (c *client) parseKeys(localHex, remoteHex string) (keychain.SingleKeyECDH, *btcec.PublicKey, error) {
	if remoteHex != "" && localHex == "" {
		return nil, nil, errors.New("a stored node key without the local key cannot be used: pair again")
	}
	if localHex == "" {
		if c.cfg.onLocalPrivCreate == "" {
			return nil, nil, errors.New("no local key was given and the page named no onlocalprivcreate callback to keep a new one")
		}
		priv, err := btcec.NewPrivateKey()
		if err != nil {
			return nil, nil, err
		}
		if err := callJS(c.cfg.onLocalPrivCreate, hex.EncodeToString(priv.Serialize())); err != nil {
			return nil, nil, fmt.Errorf("the page could not keep the new local key: %w", err)
		}
		return &keychain.PrivKeyECDH{PrivKey: priv}, nil, nil
	}
	raw, err := hex.DecodeString(localHex)
	if err != nil || len(raw) != 32 {
		return nil, nil, errors.New("the stored local key is damaged (not 32 bytes of hex): pair again")
	}
	priv, _ := btcec.PrivKeyFromBytes(raw)
	local := &keychain.PrivKeyECDH{PrivKey: priv}
	if remoteHex == "" {
		if c.cfg.onRemoteKeyReceive == "" {
			return nil, nil, errors.New("no node key was given and the page named no onremotekeyreceive callback to keep it")
		}
		return local, nil, nil
	}
	rawRemote, err := hex.DecodeString(remoteHex)
	if err != nil || len(rawRemote) != 33 {
		return nil, nil, errors.New("the stored node key is damaged (not a 33-byte compressed key in hex): pair again")
	}
	remote, err := btcec.ParsePubKey(rawRemote)
	if err != nil {
		return nil, nil, fmt.Errorf("the stored node key is not a valid public key (%v): pair again", err)
	}
	return local, remote, nil
}

// onAuthData receives "Macaroon: <hex>" from the node during the handshake.
func (c *client) onAuthData(data []byte) error {
	prefix, macHex, ok := strings.Cut(string(data), ": ")
	if !ok || prefix != "Macaroon" {
		return errors.New("the node's auth data holds no macaroon")
	}
	raw, err := hex.DecodeString(strings.TrimSpace(macHex))
	if err != nil {
		return fmt.Errorf("the node's macaroon is not hex: %w", err)
	}
	mac := &macaroon.Macaroon{}
	if err := mac.UnmarshalBinary(raw); err != nil {
		return fmt.Errorf("the node's macaroon cannot be read: %w", err)
	}
	c.mu.Lock()
	c.mac = mac
	c.mu.Unlock()
	if c.cfg.onAuthData == "" {
		return nil
	}
	return callJS(c.cfg.onAuthData, string(data))
}

// callJS calls a function named by a dotted path from globalThis ("ns.onLocalPrivCreate"). A
// returned object with an `err` field is an error.
func callJS(path, value string) error {
	if path == "" {
		return nil
	}
	parts := strings.Split(path, ".")
	holder := js.Global()
	for _, p := range parts[:len(parts)-1] {
		holder = holder.Get(p)
		if holder.Type() != js.TypeObject {
			return fmt.Errorf("callback %s is not defined", path)
		}
	}
	fn := holder.Get(parts[len(parts)-1])
	if fn.Type() != js.TypeFunction {
		return fmt.Errorf("callback %s is not a function", path)
	}
	ret := fn.Invoke(value)
	if ret.Type() == js.TypeObject {
		if e := ret.Get("err"); !e.IsUndefined() && !e.IsNull() {
			return errors.New(e.String())
		}
	}
	return nil
}

func (c *client) current() *connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

func (c *client) isConnected(js.Value, []js.Value) interface{} {
	cur := c.current()
	if cur == nil || cur.conn == nil {
		return false
	}
	switch cur.conn.GetState() {
	case connectivity.Ready, connectivity.Idle:
		return true
	}
	return false
}

func (c *client) disconnect(js.Value, []js.Value) interface{} {
	c.mu.Lock()
	c.replace(nil)
	c.mu.Unlock()
	return nil
}

// statusText: the mailbox's view ("Connected", "Session Not Found", "Session In Use", "Not
// Connected"), or why the last attempt ended when it ended here.
func (c *client) statusText(js.Value, []js.Value) interface{} {
	cur := c.current()
	switch {
	case cur == nil:
		return "Not Connected"
	case cur.err != nil && cur.status == nil:
		return "Error: " + cur.err.Error()
	case cur.status != nil:
		return cur.status().String()
	}
	return "Not Connected"
}

func (c *client) invokeRPC(_ js.Value, args []js.Value) interface{} {
	if len(args) != 3 || args[2].Type() != js.TypeFunction {
		return "wasmClientInvokeRPC needs 3 arguments: method name, request JSON, callback"
	}
	callback := args[2]
	reply := func(s string) { callback.Invoke(s) }
	// lnc-web ignores our return value and waits for the callback, so every refusal goes there;
	// a text that is not JSON makes lnc-web reject with it.
	refuse := func(msg string) interface{} {
		go reply(msg)
		return nil
	}
	if args[0].Type() != js.TypeString || args[1].Type() != js.TypeString {
		return refuse("wasmClientInvokeRPC: the method name and the request must be strings")
	}
	name, request := args[0].String(), args[1].String()
	if len(name) > maxRPCNameLen || !rpcNamePattern.MatchString(name) {
		return refuse(fmt.Sprintf("%q is not a method name like lnrpc.Lightning.GetInfo", truncate(name, 60)))
	}
	if len(request) > maxRequestBytes {
		return refuse(fmt.Sprintf("the request for %s is larger than %d bytes", name, maxRequestBytes))
	}
	method, ok := c.registry[name]
	if !ok {
		return refuse("rpc with name " + name + " not found")
	}
	cur := c.current()
	if cur == nil || cur.conn == nil {
		return refuse("not connected: the LNC connection to the node is not open (RPC connection not ready)")
	}
	go method(cur.ctx, cur.conn, request, func(result string, err error) {
		if err != nil {
			reply(err.Error())
			return
		}
		reply(result)
	})
	return nil
}

func (c *client) macaroon() *macaroon.Macaroon {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mac
}

func (c *client) expiry(js.Value, []js.Value) interface{} {
	mac := c.macaroon()
	if mac == nil {
		return 0
	}
	t, found := checkers.ExpiryTime(nil, mac.Caveats())
	if !found {
		return 0
	}
	return t.Unix()
}

func macaroonOps(mac *macaroon.Macaroon) ([]*lnrpc.Op, error) {
	id := mac.Id()
	if len(id) < 2 || id[0] != byte(bakery.LatestVersion) {
		return nil, errors.New("unknown macaroon version")
	}
	var decoded lnrpc.MacaroonId
	if err := proto.Unmarshal(id[1:], &decoded); err != nil {
		return nil, err
	}
	return decoded.Ops, nil
}

func (c *client) isReadOnly(js.Value, []js.Value) interface{} {
	mac := c.macaroon()
	if mac == nil {
		return false
	}
	ops, err := macaroonOps(mac)
	if err != nil {
		return false
	}
	for _, op := range ops {
		for _, action := range op.Actions {
			if action != "read" {
				return false
			}
		}
	}
	return true
}

func (c *client) hasPerms(_ js.Value, args []js.Value) interface{} {
	mac := c.macaroon()
	if len(args) != 1 || args[0].Type() != js.TypeString || mac == nil {
		return false
	}
	required, ok := methodPermissions[args[0].String()]
	if !ok {
		return false
	}
	ops, err := macaroonOps(mac)
	if err != nil {
		return false
	}
	granted := map[string]bool{}
	for _, op := range ops {
		for _, action := range op.Actions {
			granted[op.Entity+":"+action] = true
		}
	}
	for _, need := range required {
		if !granted[need] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
