package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// serveOpts are serve's flags.
type serveOpts struct {
	tls                  tlsFlags
	listen, chain        string
	staple, mode, pkiDir string
	hsTimeout            time.Duration
	maxConns             int
	once, asJSON         bool
	pskHint              string
	psks                 []string
	ticketKeys           string   // --ticket-keys (ticketkeys.go)
	echKeys              []string // --ech-key (ech.go)
}

func (a *app) serveCommand() *cobra.Command {
	var o serveOpts
	c := &cobra.Command{
		Use:   "serve [flags]",
		Short: "serve TLS: echo, www (HTTP/1.1 and HTTP/2), discard or source:N",
		Long: `serve listens for TLS connections and logs each event (one JSON object per
line with --json). Without --cert it mints a throwaway CA and a localhost
certificate and prints where the CA is; with --psk and no --cert it serves
PSK only, with no certificate, so clients can only negotiate PSK (PSK needs
--backend openssl: crypto/tls, the go backend, has no PSK). It asks clients for a certificate
only with --verify query (ask) or --verify peer (require). A client that
speaks plain HTTP is told so (a 400 answer), closed at once and logged. --mode www answers HTTP requests
(HTTP/2 when the client chooses h2) with a description of the TLS session.`,
		Example: `  sslsock serve --mode www
  sslsock serve --cert server.pem --key server.key --listen 127.0.0.1:4433 --verify peer --ca clients.pem`,
		Args: exactArgs(0, "no arguments"),
	}
	fs := c.Flags()
	fs.SortFlags = false
	o.tls.register(fs, "none", "client certificates: none (do not ask), query (ask, accept any or none), peer (require a valid one) or auto (as query)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8443", "address to listen on")
	fs.StringVar(&o.chain, "chain", "", "intermediate certificates to send after --cert")
	fs.StringVar(&o.staple, "ocsp-staple", "", "DER OCSP response to staple")
	fs.StringVar(&o.mode, "mode", "echo", "what to do with a connection: echo, www, discard or source:N")
	fs.DurationVar(&o.hsTimeout, "handshake-timeout", ssl.DefaultHandshakeTimeout, "time a client has for its handshake")
	fs.IntVar(&o.maxConns, "max-conns", ssl.DefaultMaxPendingConnections, "connections handshaking or waiting at once")
	fs.BoolVar(&o.once, "once", false, "serve one connection (or one failed attempt), then exit")
	fs.StringVar(&o.pskHint, "psk-hint", "", "PSK identity hint (backends with PSK)")
	fs.StringArrayVar(&o.psks, "psk", nil, "PSK as ID:HEX (repeatable; --backend openssl); without --cert: PSK only, no certificate")
	fs.StringVar(&o.ticketKeys, "ticket-keys", "", "session ticket keys shared with other servers: a file of base64 keys, one per line, newest first (reloaded when it changes; see docs/session-resumption.md)")
	fs.StringArrayVar(&o.echKeys, "ech-key", nil, "Encrypted Client Hello key file from \"sslsock cert ech-new\" (repeatable, newest first); the configuration list clients need is printed")
	fs.StringVar(&o.pkiDir, "pki-dir", "", "where to write the throwaway CA (default: a temporary directory, removed at exit)")
	fs.BoolVar(&o.asJSON, "json", false, "one JSON object per event and line")
	c.RunE = a.command(func([]string) (int, error) { return a.runServe(&o) })
	return c
}

func (a *app) runServe(o *serveOpts) (int, error) {
	var sourceN int64 = -1
	switch {
	case o.mode == "echo", o.mode == "www", o.mode == "discard":
	case strings.HasPrefix(o.mode, "source:"):
		n, err := strconv.ParseInt(strings.TrimPrefix(o.mode, "source:"), 10, 64)
		if err != nil || n < 0 {
			return 2, usagef("--mode source:N needs a byte count")
		}
		sourceN = n
	default:
		return 2, usagef("--mode must be echo, www, discard or source:N, not %q", o.mode)
	}
	if o.hsTimeout <= 0 {
		return 2, usagef("--handshake-timeout must be positive")
	}
	if o.maxConns <= 0 {
		return 2, usagef("--max-conns must be positive")
	}
	if o.mode == "www" && o.tls.alpn == "" {
		o.tls.alpn = "h2,http/1.1" // served properly: HTTP/2 through ssl.ServeHTTP
	}
	pskKeys := map[string][]byte{}
	for _, p := range o.psks {
		id, hexKey, ok := strings.Cut(p, ":")
		key, err := hex.DecodeString(hexKey)
		if !ok || err != nil || len(key) == 0 {
			return 2, usagef("--psk %q: want ID:HEX", p)
		}
		pskKeys[id] = key
	}
	// --psk without --cert: a PSK-only server, with no certificate at all
	// (as openssl s_server -nocert -psk, and Qt's PSK servers), so that
	// clients can only negotiate PSK.
	pskOnly := len(pskKeys) > 0 && o.tls.cert == ""
	if pskOnly && (o.chain != "" || o.staple != "") {
		return 2, usagef("--chain and --ocsp-staple need --cert (--psk without --cert serves PSK only, with no certificate)")
	}
	if err := o.tls.check(); err != nil {
		return exitFor(err), err
	}
	if (o.pskHint != "" || len(o.psks) > 0) && !ssl.IsFeatureSupported(ssl.FeaturePsk, o.tls.backendName()) {
		return 2, usagef("--psk and --psk-hint need a backend with PSK: --backend openssl (the %s backend has none; crypto/tls has no PSK)", o.tls.backendName())
	}
	cfg, err := o.tls.configuration(a.stderr)
	if err != nil {
		return exitFor(err), err
	}
	if o.pskHint != "" {
		cfg.SetPreSharedKeyIdentityHint([]byte(o.pskHint))
	}
	// Bind first: nothing is minted or printed for a port that is taken.
	raw, err := net.Listen("tcp", o.listen)
	if err != nil {
		return 1, err
	}
	defer raw.Close()
	out := &eventLog{w: a.stdout, json: o.asJSON}
	var echList []byte
	var echNames []string
	if len(o.echKeys) > 0 {
		if !ssl.IsFeatureSupported(ssl.FeatureEncryptedClientHello, o.tls.backendName()) {
			return 1, fmt.Errorf("the %s backend has no Encrypted Client Hello (libssl 3.0 has none); use --backend go", o.tls.backendName())
		}
		keys, list, err := loadECHKeys(o.echKeys)
		if err != nil {
			return 1, err
		}
		cfg.SetEncryptedClientHelloKeys(keys)
		echList, echNames = list, echPublicNames(keys)
	}
	if o.tls.cert == "" && !pskOnly {
		dir, err := throwawayIdentity(&cfg, o.pkiDir, out, echNames...)
		if err != nil {
			return 1, err
		}
		if o.pkiDir == "" {
			defer os.RemoveAll(dir)
		}
	} else if o.chain != "" {
		extra, err := ssl.CertificatesFromFile(o.chain, ssl.Pem)
		if err != nil {
			return 2, inputError("--chain", o.chain, err, pemOnlyHint(o.chain))
		}
		cfg.SetLocalCertificateChain(append(cfg.LocalCertificateChain(), extra...))
	}
	if o.staple != "" {
		if err := cfg.SetOcspStapleFile(o.staple); err != nil {
			return 2, inputError("--ocsp-staple", o.staple, err, "")
		}
	}
	mode := ssl.SslServerMode
	if pskOnly {
		// A PSK-only server needs neither a certificate nor a hint: the
		// checks that remain (protocol, key pairs) are the client's.
		mode = ssl.SslClientMode
	}
	if err := cfg.Validate(mode); err != nil {
		return 2, usageError{msg: err.Error(), err: err} // the files given do not go together
	}
	ctx, stop := signal.NotifyContext(a.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.ticketKeys != "" {
		if err := serveTicketKeys(ctx, o.ticketKeys, o.tls.backendName(), &cfg, out); err != nil {
			return 2, usageError{msg: err.Error(), err: err} // an input file that cannot be used: bad usage
		}
	}
	finishOnce := func() {
		if o.once {
			cancel()
		}
	}
	srv := ssl.NewServer(&plainDetector{Listener: raw, found: func(c net.Conn, line string) {
		out.event("plainHTTP", nil, map[string]any{"peer": c.RemoteAddr().String(), "request": line,
			"description": "the client spoke plain HTTP to this TLS server; it was told to use https://"})
		finishOnce()
	}}, cfg)
	srv.SetHandshakeTimeout(o.hsTimeout)
	if len(pskKeys) > 0 {
		srv.OnPreSharedKeyAuthenticationRequired(func(_ *ssl.Socket, a *ssl.PreSharedKeyAuthenticator) {
			if key, ok := pskKeys[string(a.Identity())]; ok {
				a.SetPreSharedKey(key)
			}
		})
	}
	srv.SetMaxPendingConnections(o.maxConns)
	srv.OnStartedEncryptionHandshake(func(s *ssl.Socket) { out.event("accepted", s, nil) })
	srv.OnSslErrors(func(s *ssl.Socket, errs []ssl.Error) {
		out.event("sslErrors", s, map[string]any{"errors": toJSONErrors(errs, "")})
	})
	srv.OnErrorOccurred(func(s *ssl.Socket, k ssl.SocketError) {
		out.event("error", s, map[string]any{"socketError": k.String(), "errorString": s.ErrorString()})
		finishOnce() // a failed handshake is the one connection of --once
	})
	srv.OnAlertReceived(func(s *ssl.Socket, l ssl.AlertLevel, t ssl.AlertType, d string) {
		out.event("alertReceived", s, map[string]any{"level": l.String(), "type": t.String(), "description": d})
	})
	listening := map[string]any{"address": srv.Addr().String(), "backend": o.tls.backendName(),
		"alpn": strings.Join(cfg.AllowedNextProtocols(), ","), "clientCertificates": o.tls.verify}
	switch {
	case pskOnly:
		listening["psk"] = "only (no certificate)"
	case len(pskKeys) > 0:
		listening["psk"] = "and certificates"
	}
	out.event("listening", nil, listening)
	if echList != nil {
		out.event("ech", nil, map[string]any{"publicName": strings.Join(echNames, ","),
			"echConfigList": base64.StdEncoding.EncodeToString(echList)})
	}
	go func() { <-ctx.Done(); srv.Close() }()

	sl := &sessionListener{srv: srv, ctx: ctx, out: out, once: o.once, closed: func() {
		if o.once {
			cancel()
		}
	}}
	if o.mode == "www" {
		hs := &http.Server{Handler: http.HandlerFunc(serveWWW), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
		if o.once {
			hs.SetKeepAlivesEnabled(false)
			hs.IdleTimeout = 2 * time.Second
		}
		go func() { <-ctx.Done(); hs.Close() }()
		_ = ssl.ServeHTTP(hs, sl)
	} else {
		var wg sync.WaitGroup
		for {
			c, err := sl.Accept()
			if err != nil {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				serveConn(c.(*loggedConn).Socket, o.mode, sourceN)
				c.Close()
			}()
		}
		wg.Wait()
	}
	srv.Close()
	out.event("stopped", nil, nil)
	return 0, nil
}

// sessionListener hands out the Server's encrypted sockets, logging each;
// with once, only the first.
type sessionListener struct {
	srv    *ssl.Server
	ctx    context.Context
	out    *eventLog
	once   bool
	given  bool
	mu     sync.Mutex
	closed func()
}

// Accept returns the next encrypted connection.
func (l *sessionListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	given := l.given
	l.mu.Unlock()
	if l.once && given {
		<-l.ctx.Done()
		return nil, net.ErrClosed
	}
	sock, err := l.srv.AcceptSocket(l.ctx)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.given = true
	l.mu.Unlock()
	// The session's facts from ConnectionState, which keeps them after the
	// client closed (a quick client may be gone by now: Qt's accessors
	// would already be cleared).
	cs := sock.ConnectionState()
	c := sock.SslConfiguration()
	l.out.event("encrypted", sock, map[string]any{"protocol": ssl.ProtocolFromVersion(cs.Version).String(),
		"cipher": ssl.CipherFromID(cs.CipherSuite).Name(),
		"group":  groupName(cs), "alpn": cs.NegotiatedProtocol, "resumed": cs.DidResume, "ticketKey": sock.SessionTicketKeyID(),
		"peerChain": toJSONChain(c.PeerCertificateChain(), false), "serverName": cs.ServerName,
		"ech": cs.ECHAccepted, "outerServerName": c.SessionOuterServerName()})
	peer := map[string]any{"peer": addrString(sock.RemoteAddr())}
	return &loggedConn{Socket: sock, closed: func() { l.out.event("closed", nil, peer); l.closed() }}, nil
}

// Close stops the Server.
func (l *sessionListener) Close() error { return l.srv.Close() }

// Addr is the listening address.
func (l *sessionListener) Addr() net.Addr { return l.srv.Addr() }

// loggedConn logs "closed" once when closed.
type loggedConn struct {
	*ssl.Socket
	once   sync.Once
	closed func()
}

// Close closes the socket and logs it.
func (c *loggedConn) Close() error {
	err := c.Socket.Close()
	c.once.Do(c.closed)
	return err
}

func groupName(cs tls.ConnectionState) string { return ssl.GroupName(cs.CurveID) }

// plainDetector notices clients that speak plain HTTP to the TLS server:
// it answers them with a 400 saying so, and reports them. (The Server
// drops every connection whose first byte is not a TLS handshake record.)
type plainDetector struct {
	net.Listener
	found func(c net.Conn, requestLine string)
}

// Accept wraps the next connection.
func (d *plainDetector) Accept() (net.Conn, error) {
	c, err := d.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, found: d.found}, nil
}

type sniffConn struct {
	net.Conn
	first bool
	found func(c net.Conn, requestLine string)
}

// Read looks at the first byte: an upper-case letter starts an HTTP request.
func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.first || n == 0 {
		return n, err
	}
	c.first = true
	if p[0] < 'A' || p[0] > 'Z' {
		return n, err
	}
	text := string(p[:n])
	if !strings.Contains(text, "\n") { // the request line is still on its way
		rest, _ := bufio.NewReader(io.LimitReader(c.Conn, 1024)).ReadString('\n')
		text += rest
	}
	text, _, _ = strings.Cut(text, "\n")
	text = strings.TrimRight(text, "\r")
	if m, _, ok := strings.Cut(text, " "); ok && isHTTPMethod(m) {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		body := "This is a TLS server: use https:// (the client sent plain HTTP).\n"
		fmt.Fprintf(c.Conn, "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		c.found(c.Conn, text)
	}
	return n, err // the Server then closes the connection (CloseWrite first: no reset destroys the answer)
}

// CloseWrite half-closes the TCP connection, so that the Server's orderly
// close sends the answer and a FIN before the rest of the request is
// drained, not a reset.
func (c *sniffConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

func isHTTPMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PRI":
		return true
	}
	return false
}

// throwawayIdentity mints a CA and a localhost leaf, sets them on cfg and
// says where the CA is and how to trust it.
// Extra names (ECH public names) are added to the leaf's.
func throwawayIdentity(cfg *ssl.Configuration, dir string, out *eventLog, extra ...string) (string, error) {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sslsock-pki-"); err != nil {
			return "", err
		}
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ca, err := pki.SelfSigned(pki.Spec{CommonName: "sslsock throwaway CA", Organization: "sslsocket", IsCA: true,
		NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return "", err
	}
	leaf, err := ca.Issue(pki.Spec{CommonName: "localhost", DNSNames: append([]string{"localhost"}, extra...),
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return "", err
	}
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, ca.CertPEM(), 0o644); err != nil {
		return "", err
	}
	cfg.SetLocalCertificateChain([]ssl.Certificate{ssl.NewCertificate(leaf.Cert)})
	cfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	spki := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	out.event("identity", nil, map[string]any{"caFile": caPath, "caSha256": ssl.NewCertificate(ca.Cert).SHA256(),
		"leafSpkiSha256Base64": base64.StdEncoding.EncodeToString(spki[:])})
	return dir, nil
}

func serveConn(sock *ssl.Socket, mode string, sourceN int64) {
	switch {
	case mode == "echo":
		io.Copy(sock, sock)
	case mode == "discard":
		io.Copy(io.Discard, sock)
	case sourceN >= 0:
		buf := make([]byte, 32<<10)
		for sent := int64(0); sent < sourceN; {
			n := int64(len(buf))
			if sourceN-sent < n {
				n = sourceN - sent
			}
			if _, err := sock.Write(buf[:n]); err != nil {
				return
			}
			sent += n
		}
	}
}

// serveWWW answers an HTTP request with a description of the TLS session,
// as `openssl s_server -www` does: HTML for browsers, text otherwise.
func serveWWW(w http.ResponseWriter, r *http.Request) {
	facts := [][2]string{{"Request", r.Method + " " + r.RequestURI + " " + r.Proto}, {"HTTP", r.Proto}}
	if cs := r.TLS; cs != nil {
		client := "none"
		if len(cs.PeerCertificates) > 0 {
			client = ssl.NewCertificate(cs.PeerCertificates[0]).SubjectDisplayName()
		}
		c := ssl.CipherFromID(cs.CipherSuite)
		facts = append(facts, [][2]string{
			{"Protocol", ssl.ProtocolFromVersion(cs.Version).String()},
			{"TLS version", tls.VersionName(cs.Version)},
			{"Cipher", c.Name()},
			{"Cipher (IANA)", c.IANAName()},
			{"Key exchange group", groupName(*cs)},
			{"ALPN", cs.NegotiatedProtocol},
			{"Server name (SNI)", cs.ServerName},
			{"Session resumed", strconv.FormatBool(cs.DidResume)},
			{"Client certificate", client},
		}...)
	}
	facts = append(facts, [2]string{"Backend", ssl.ActiveBackend()})
	var body strings.Builder
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body.WriteString("<!doctype html><html><head><title>sslsock</title></head><body><h1>sslsock: your TLS session</h1><table>\n")
		for _, f := range facts {
			fmt.Fprintf(&body, "<tr><th>%s</th><td id=%q>%s</td></tr>\n", html.EscapeString(f[0]),
				strings.ToLower(strings.ReplaceAll(f[0], " ", "-")), html.EscapeString(f[1]))
		}
		body.WriteString("</table></body></html>\n")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, f := range facts {
			fmt.Fprintf(&body, "%s: %s\n", f[0], f[1])
		}
	}
	io.WriteString(w, body.String())
}

// eventLog prints serve's events: readable lines, or one JSON object per line.
type eventLog struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (l *eventLog) event(name string, s *ssl.Socket, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fields == nil {
		fields = map[string]any{}
	}
	if s != nil {
		fields["peer"] = addrString(s.RemoteAddr()) // kept after the peer closed
	}
	if l.json {
		fields["event"] = name
		_ = json.NewEncoder(l.w).Encode(fields)
		return
	}
	var parts []string
	for _, k := range []string{"peer", "address", "backend", "alpn", "clientCertificates", "psk", "protocol", "cipher", "group", "resumed", "ticketKey",
		"serverName", "outerServerName", "publicName", "echConfigList",
		"socketError", "errorString", "caFile", "caSha256", "leafSpkiSha256Base64", "type", "request", "description", "file", "keys"} {
		if v, ok := fields[k]; ok && fmt.Sprint(v) != "" {
			text := fmt.Sprint(v)
			if strings.ContainsAny(text, " \"\t") {
				text = strconv.Quote(text)
			}
			parts = append(parts, k+"="+text)
		}
	}
	if errs, ok := fields["errors"].([]jsonError); ok {
		for _, e := range errs {
			parts = append(parts, e.Code)
		}
	}
	fmt.Fprintf(l.w, "%s %s\n", name, strings.Join(parts, " "))
}

// addrString prints an address, or "-" when there is none.
func addrString(a net.Addr) string {
	if a == nil {
		return "-"
	}
	return a.String()
}
