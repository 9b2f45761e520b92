package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// connectReport is the --json output of connect: exactly one object.
type connectReport struct {
	Encrypted        bool        `json:"encrypted"`
	Backend          string      `json:"backend"`
	Protocol         string      `json:"protocol"`
	Cipher           jsonCipher  `json:"cipher"`
	ALPN             jsonALPN    `json:"alpn"`
	Resumed          bool        `json:"resumed"`
	PeerChain        []jsonCert  `json:"peerChain"`
	SslErrors        []jsonError `json:"sslErrors"`
	PeerVerifyErrors []jsonError `json:"peerVerifyErrors"`
	AlertsSent       []jsonAlert `json:"alertsSent"`
	AlertsReceived   []jsonAlert `json:"alertsReceived"`
	OCSP             []jsonOCSP  `json:"ocsp"`
	SocketError      string      `json:"socketError"`
	ErrorString      string      `json:"errorString"`
	Received         string      `json:"received"`
}

type jsonCipher struct {
	Name           string `json:"name"`
	Protocol       string `json:"protocol"`
	KeyExchange    string `json:"keyExchange"`
	Authentication string `json:"authentication"`
	Encryption     string `json:"encryption"`
	UsedBits       int    `json:"usedBits"`
	SupportedBits  int    `json:"supportedBits"`
}

type jsonALPN struct {
	Protocol string `json:"protocol"`
	Status   string `json:"status"`
}

type jsonAlert struct {
	Level       string `json:"level"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

type jsonOCSP struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// tlsFlags are the flags connect and serve share.
type tlsFlags struct {
	verify, protocol, ciphers, curves, alpn, backend string
	depth                                            int
	cas                                              multiFlag
	noSystemCA                                       bool
	cert, key, pass                                  string
}

func (f *tlsFlags) register(fs *flag.FlagSet, verifyDefault string) {
	fs.StringVar(&f.verify, "verify", verifyDefault, "peer verification: none, query, peer or auto")
	fs.IntVar(&f.depth, "verify-depth", 0, "maximum number of intermediates (0: no limit)")
	fs.Var(&f.cas, "ca", "trusted CA certificates: a file or a glob (repeatable)")
	fs.BoolVar(&f.noSystemCA, "no-system-ca", false, "do not trust the system's CA certificates")
	fs.StringVar(&f.cert, "cert", "", "local certificate chain (PEM, leaf first)")
	fs.StringVar(&f.key, "key", "", "private key of --cert (PEM)")
	fs.StringVar(&f.pass, "pass", "", "passphrase of --key")
	fs.StringVar(&f.protocol, "protocol", "SecureProtocols", "protocol, as Qt names it (TlsV1_3, TlsV1_2OrLater, …)")
	fs.StringVar(&f.ciphers, "ciphers", "", "cipher list a:b:c (OpenSSL or IANA names)")
	fs.StringVar(&f.curves, "curves", "", "elliptic curves a,b (prime256v1, X25519, …)")
	fs.StringVar(&f.alpn, "alpn", "", "ALPN protocols a,b")
	fs.StringVar(&f.backend, "backend", "", "TLS backend (see sslsock backends)")
}

// configuration turns the flags into an ssl.Configuration.
func (f *tlsFlags) configuration() (ssl.Configuration, error) {
	var cfg ssl.Configuration
	if f.backend != "" && !ssl.SetActiveBackend(f.backend) {
		return cfg, usageError{fmt.Sprintf("unknown backend %q (available: %s)", f.backend, strings.Join(ssl.AvailableBackends(), ", "))}
	}
	modes := map[string]ssl.PeerVerifyMode{"none": ssl.VerifyNone, "query": ssl.QueryPeer, "peer": ssl.VerifyPeer, "auto": ssl.AutoVerifyPeer}
	mode, ok := modes[f.verify]
	if !ok {
		return cfg, usageError{fmt.Sprintf("--verify must be none, query, peer or auto, not %q", f.verify)}
	}
	cfg.SetPeerVerifyMode(mode)
	if f.depth < 0 {
		return cfg, usageError{"--verify-depth must not be negative"}
	}
	cfg.SetPeerVerifyDepth(f.depth)
	p, err := ssl.ParseProtocol(f.protocol)
	if err != nil {
		return cfg, usageError{fmt.Sprintf("--protocol: %v", err)}
	}
	cfg.SetProtocol(p)
	if f.ciphers != "" {
		if unknown := cfg.SetCiphersString(f.ciphers); len(unknown) > 0 {
			return cfg, usageError{fmt.Sprintf("--ciphers: unknown cipher(s) %s", strings.Join(unknown, ", "))}
		}
	}
	if f.curves != "" {
		var curves []ssl.EllipticCurve
		for _, name := range strings.Split(f.curves, ",") {
			c := ssl.CurveFromShortName(strings.TrimSpace(name))
			if !c.IsValid() {
				return cfg, usageError{fmt.Sprintf("--curves: unknown curve %q", name)}
			}
			curves = append(curves, c)
		}
		cfg.SetEllipticCurves(curves)
	}
	if f.alpn != "" {
		cfg.SetAllowedNextProtocols(strings.Split(f.alpn, ","))
	}
	if len(f.cas) > 0 || f.noSystemCA {
		roots := []ssl.Certificate{}
		if !f.noSystemCA {
			roots = append(roots, ssl.SystemCaCertificates()...)
		}
		for _, pattern := range f.cas {
			syntax := ssl.FixedString
			if strings.ContainsAny(pattern, "*?[") {
				syntax = ssl.Wildcard
			}
			certs, err := ssl.CertificatesFromPath(pattern, ssl.Pem, syntax)
			if err != nil {
				return cfg, fmt.Errorf("--ca %s: %w", pattern, err)
			}
			if len(certs) == 0 {
				return cfg, fmt.Errorf("--ca %s: no certificate found", pattern)
			}
			roots = append(roots, certs...)
		}
		cfg.SetCaCertificates(roots)
	}
	if (f.cert == "") != (f.key == "") {
		return cfg, usageError{"--cert and --key go together"}
	}
	if f.cert != "" {
		chain, err := ssl.CertificatesFromFile(f.cert, ssl.Pem)
		if err != nil {
			return cfg, err
		}
		data, err := os.ReadFile(f.key)
		if err != nil {
			return cfg, err
		}
		key, err := ssl.ParseKey(data, ssl.Opaque, ssl.Pem, ssl.PrivateKey, []byte(f.pass))
		if err != nil {
			if errors.Is(err, ssl.ErrBadPassphrase) {
				return cfg, fmt.Errorf("%s: wrong or missing passphrase (--pass)", f.key)
			}
			return cfg, fmt.Errorf("%s: %w", f.key, err)
		}
		cfg.SetLocalCertificateChain(chain)
		cfg.SetPrivateKey(key)
	}
	return cfg, nil
}

func runConnect(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("connect", stderr)
	var tf tlsFlags
	tf.register(fs, "auto")
	peerName := fs.String("peer-name", "", "name to verify the certificate against (and send as SNI)")
	var ignores multiFlag
	fs.Var(&ignores, "ignore", "ignore an error: CODE or CODE@SHA256 of the certificate (repeatable)")
	ignoreAll := fs.Bool("ignore-all", false, "ignore every certificate error (dangerous)")
	ocspFlag := fs.Bool("ocsp", false, "request and check a stapled OCSP response")
	starttls := fs.String("starttls", "", "upgrade a plain session first: smtp, imap, pop3, ftp, xmpp or postgres")
	proxyURL := fs.String("proxy", "", "proxy URL: socks5://[user:pass@]host:port or http://host:port")
	sessionOut := fs.String("session-out", "", "save the session ticket to this file")
	sessionIn := fs.String("session-in", "", "resume the session saved in this file")
	pskIdentity := fs.String("psk-identity", "", "PSK identity (backends with PSK)")
	pskKey := fs.String("psk-key", "", "PSK key, hex (backends with PSK)")
	send := fs.String("send", "", "send this text after the handshake and report what comes back")
	timeout := fs.Duration("timeout", 10*time.Second, "time for connecting and the handshake")
	asJSON := fs.Bool("json", false, "print one JSON object and exit")
	if err := parseFlags(fs, args); err != nil {
		return 2, err
	}
	if fs.NArg() != 1 {
		return 2, usageError{"connect takes HOST:PORT"}
	}
	host, portStr, err := net.SplitHostPort(fs.Arg(0))
	if err != nil {
		return 2, usageError{fmt.Sprintf("%q is not HOST:PORT", fs.Arg(0))}
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return 2, usageError{fmt.Sprintf("bad port %q", portStr)}
	}
	cfg, err := tf.configuration()
	if err != nil {
		return exitFor(err), err
	}
	if *pskIdentity != "" || *pskKey != "" {
		if _, err := hex.DecodeString(*pskKey); err != nil {
			return 2, usageError{"--psk-key must be hex"}
		}
		if !ssl.IsFeatureSupported(ssl.FeaturePsk, "") {
			return 1, fmt.Errorf("the %s backend has no PSK support", ssl.ActiveBackend())
		}
	}
	cfg.SetOcspStaplingEnabled(*ocspFlag)
	if *sessionOut != "" || *sessionIn != "" {
		cfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	}
	if *sessionIn != "" {
		t, err := os.ReadFile(*sessionIn)
		if err != nil {
			return 1, err
		}
		cfg.SetSessionTicket(t)
	}
	var ignoreList []ssl.Error
	var ignoreByHash []struct {
		code ssl.ErrorCode
		sha  string
	}
	for _, ig := range ignores {
		name, sha, _ := strings.Cut(ig, "@")
		code, err := ssl.ParseErrorCode(name)
		if err != nil {
			return 2, usageError{fmt.Sprintf("--ignore: %v", err)}
		}
		ignoreByHash = append(ignoreByHash, struct {
			code ssl.ErrorCode
			sha  string
		}{code, strings.ToLower(sha)})
	}

	sock := ssl.NewSocket()
	defer sock.Abort()
	sock.SetSslConfiguration(cfg)
	if *peerName != "" {
		sock.SetPeerVerifyName(*peerName)
	}
	if *proxyURL != "" {
		px, err := ssl.ParseProxyURL(*proxyURL)
		if err != nil {
			return 2, usageError{fmt.Sprintf("--proxy: %v", err)}
		}
		sock.SetProxy(px)
	}
	var mu sync.Mutex
	rep := connectReport{Backend: ssl.ActiveBackend(), SslErrors: []jsonError{}, PeerVerifyErrors: []jsonError{},
		AlertsSent: []jsonAlert{}, AlertsReceived: []jsonAlert{}, OCSP: []jsonOCSP{}, PeerChain: []jsonCert{}}
	sock.OnPeerVerifyError(func(e ssl.Error) {
		mu.Lock()
		rep.PeerVerifyErrors = append(rep.PeerVerifyErrors, toJSONErrors([]ssl.Error{e})...)
		mu.Unlock()
	})
	alert := func(list *[]jsonAlert) func(ssl.AlertLevel, ssl.AlertType, string) {
		return func(l ssl.AlertLevel, t ssl.AlertType, d string) {
			mu.Lock()
			*list = append(*list, jsonAlert{l.String(), t.String(), d})
			mu.Unlock()
		}
	}
	sock.OnAlertSent(alert(&rep.AlertsSent))
	sock.OnAlertReceived(alert(&rep.AlertsReceived))
	interactive := !*asJSON && !*ignoreAll && len(ignores) == 0 && isTerminal(stdin)
	if interactive {
		sock.SetPauseMode(ssl.PauseOnSslErrors)
	}
	decided := make(chan struct{}, 1)
	sock.OnSslErrors(func(errs []ssl.Error) {
		mu.Lock()
		rep.SslErrors = toJSONErrors(errs)
		mu.Unlock()
		// --ignore CODE[@SHA256]: build the exact list from what occurred.
		for _, e := range errs {
			for _, ig := range ignoreByHash {
				if e.Code == ig.code && (ig.sha == "" || ig.sha == e.Certificate.SHA256()) {
					ignoreList = append(ignoreList, e)
				}
			}
		}
		if len(ignoreList) > 0 {
			sock.IgnoreSslErrorList(ignoreList)
		}
		if *ignoreAll {
			sock.IgnoreSslErrors()
		}
		if interactive {
			decided <- struct{}{}
		}
	})
	if *starttls == "" {
		sock.ConnectToHostEncrypted(host, uint16(port))
	} else {
		sock.ConnectToHost(host, uint16(port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *starttls != "" {
		if err := sock.WaitForConnectedContext(ctx); err != nil {
			return finishConnect(stdout, stderr, sock, nil, &rep, &mu, *asJSON, err)
		}
		if err := startTLS(sock, *starttls, host); err != nil {
			return finishConnect(stdout, stderr, sock, nil, &rep, &mu, *asJSON, err)
		}
	}
	if interactive {
		go func() {
			select {
			case <-decided:
				mu.Lock()
				errs := rep.SslErrors
				mu.Unlock()
				if askToContinue(stdin, stderr, errs) {
					sock.IgnoreSslErrors()
				}
				sock.Resume()
			case <-ctx.Done():
			}
		}()
	}
	err = sock.WaitForEncryptedContext(ctx)
	var snap *sessionSnapshot
	if err == nil { // the report describes the handshake, even if the peer closes later
		snap = &sessionSnapshot{cfg: sock.SslConfiguration(), resumed: sock.IsSessionResumed(), ocsp: sock.OcspResponses()}
	}
	if err == nil && *send != "" {
		sock.Write([]byte(sendEscapes.Replace(*send)))
		buf := make([]byte, 64<<10)
		_ = sock.SetReadDeadline(time.Now().Add(2 * time.Second))
		var got []byte
		for {
			n, rerr := sock.Read(buf)
			got = append(got, buf[:n]...)
			if rerr != nil || len(got) >= len(buf) {
				break
			}
		}
		rep.Received = string(got)
	}
	if err == nil && *sessionOut != "" {
		_ = sock.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if len(sock.SslConfiguration().SessionTicket()) == 0 {
			sock.WaitForReadyRead(500 * time.Millisecond) // a TLS 1.3 ticket follows the handshake
		}
		if t := sock.SslConfiguration().SessionTicket(); len(t) > 0 {
			if werr := os.WriteFile(*sessionOut, t, 0o600); werr != nil {
				return 1, werr
			}
		}
	}
	status, ferr := finishConnect(stdout, stderr, sock, snap, &rep, &mu, *asJSON, err)
	if status == 0 && !*asJSON && *send == "" {
		_ = sock.SetReadDeadline(time.Time{})
		relay(sock, stdin, stdout)
	}
	return status, ferr
}

// sendEscapes turns the escapes a shell user types into bytes.
var sendEscapes = strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\\`, `\`)

// sessionSnapshot is the socket's state right after the handshake.
type sessionSnapshot struct {
	cfg     ssl.Configuration
	resumed bool
	ocsp    []ssl.OcspResponse
}

// finishConnect fills the report from the snapshot (or the socket) and prints it.
func finishConnect(stdout, stderr io.Writer, sock *ssl.Socket, snap *sessionSnapshot, rep *connectReport, mu *sync.Mutex, asJSON bool, err error) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if snap == nil {
		snap = &sessionSnapshot{cfg: sock.SslConfiguration(), resumed: sock.IsSessionResumed(), ocsp: sock.OcspResponses()}
	}
	cfg := snap.cfg
	rep.Encrypted = err == nil // the handshake completed (the peer may have closed since)
	rep.Protocol = cfg.SessionProtocol().String()
	c := cfg.SessionCipher()
	rep.Cipher = jsonCipher{c.Name(), c.ProtocolString(), c.KeyExchangeMethod(), c.AuthenticationMethod(), c.EncryptionMethod(), c.UsedBits(), c.SupportedBits()}
	rep.ALPN = jsonALPN{cfg.NextNegotiatedProtocol(), cfg.NextProtocolNegotiationStatus().String()}
	rep.Resumed = snap.resumed
	rep.PeerChain = toJSONChain(cfg.PeerCertificateChain())
	for _, r := range snap.ocsp {
		rep.OCSP = append(rep.OCSP, jsonOCSP{r.CertificateStatus.String(), r.RevocationReason.String()})
	}
	if !rep.Encrypted {
		rep.SocketError = sock.SocketError().String()
		rep.ErrorString = sock.ErrorString()
		if err != nil && rep.ErrorString == "Unknown error" {
			rep.ErrorString = err.Error()
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return 1, jerr
		}
	} else {
		printConnectReport(stdout, rep, cfg.PeerCertificateChain())
	}
	if !rep.Encrypted {
		if !asJSON {
			fmt.Fprintf(stderr, "sslsock: not encrypted: %s\n", rep.ErrorString)
		}
		return 1, nil
	}
	return 0, nil
}

func printConnectReport(w io.Writer, rep *connectReport, chain []ssl.Certificate) {
	fmt.Fprintf(w, "backend %s\n", rep.Backend)
	if len(chain) > 0 {
		fmt.Fprintln(w, "peer certificate chain:")
		printChain(w, chain)
	}
	for _, e := range rep.SslErrors {
		cert := "no certificate"
		if e.Certificate != nil {
			cert = "certificate " + (*e.Certificate)[:16] + "…"
		}
		fmt.Fprintf(w, "  sslError %-32s %s (%s)\n", e.Code, e.Message, cert)
	}
	if rep.Encrypted {
		fmt.Fprintf(w, "encrypted: %s, %s (%s, %s, %s), ALPN %q (%s), resumed %v\n", rep.Protocol, rep.Cipher.Name,
			rep.Cipher.KeyExchange, rep.Cipher.Authentication, rep.Cipher.Encryption, rep.ALPN.Protocol, rep.ALPN.Status, rep.Resumed)
	}
	for _, o := range rep.OCSP {
		fmt.Fprintf(w, "OCSP: %s (%s)\n", o.Status, o.Reason)
	}
	if rep.Received != "" {
		fmt.Fprintf(w, "received: %q\n", rep.Received)
	}
}

// askToContinue is the question Qt's documentation asks applications to put
// to the user: show the errors, continue only on an explicit yes.
func askToContinue(stdin io.Reader, stderr io.Writer, errs []jsonError) bool {
	fmt.Fprintln(stderr, "The server's certificate has problems:")
	for _, e := range errs {
		fmt.Fprintf(stderr, "  - %s (%s)\n", e.Message, e.Code)
	}
	fmt.Fprint(stderr, "Continue anyway? [y/N] ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// relay copies stdin to the socket and the socket to stdout until either ends.
func relay(sock *ssl.Socket, stdin io.Reader, stdout io.Writer) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(sock, stdin); sock.DisconnectFromHost(); done <- struct{}{} }()
	go func() { io.Copy(stdout, sock); done <- struct{}{} }()
	<-done
}

// exitFor is the exit status for an error from flag handling.
func exitFor(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
