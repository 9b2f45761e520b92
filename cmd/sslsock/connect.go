package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sslsocket/sslsocket/ssl"
)

// connectOpts are connect's flags.
type connectOpts struct {
	tls                    tlsFlags
	verifyName, serverName string
	noServerName           bool
	ignores                []string
	ignoreAll, ocsp        bool
	starttls, proxy        string
	sessionOut, sessionIn  string
	pskIdentity, pskKey    string
	echConfig              string // --ech-config (ech.go)
	send                   string
	timeout, confirm       time.Duration
	asJSON, showCerts      bool
	quiet, brief, crlf     bool
	eofIdle                time.Duration // see relay.go
	waitClose              bool
}

func (a *app) connectCommand() *cobra.Command {
	var o connectOpts
	c := &cobra.Command{
		Use:   "connect [flags] HOST:PORT",
		Short: "connect, handshake, report; then relay standard input and the connection",
		Long: `connect opens a TLS connection (after a STARTTLS prelude with --starttls),
reports the peer's certificate chain, every certificate problem, the
protocol, cipher, key-exchange group, ALPN, OCSP and resumption, and a
one-line verdict; then it copies standard input to the server and the
server's data to standard output. Once standard input has ended (at once
with </dev/null), it closes the session (close_notify) when the server has
sent nothing for --eof-idle (2s), so a piped request still gets its whole
response, however long, as long as data keeps coming; --wait-close keeps
reading until the server closes instead (like s_client -ign_eof).

The verdict waits for the server's confirmation. In TLS 1.3 the server
checks the client (its certificate) after the client's handshake is over
and rejects it with a fatal alert only then; so after a TLS 1.3 handshake
connect waits for the server's first record - a session ticket (most
servers send one at once), data or an alert - or its close, for at most
--confirm-timeout (standard input is already sent, so a server that speaks
only when spoken to confirms with its answer). If nothing comes, the verdict
says "not confirmed". In TLS 1.2 the handshake itself is the confirmation.

On a terminal, certificate problems lead to a question after the chain is
shown; elsewhere the connection fails unless the problems are ignored with
--ignore CODE@SHA256 (as printed) or --ignore-all.`,
		Example: `  sslsock connect --ca ca.pem localhost:8443
  sslsock connect localhost:8443 --ca ca.pem --json
  printf 'GET / HTTP/1.0\r\n\r\n' | sslsock connect --quiet example.com:443
  sslsock connect --starttls smtp mail.example.com:587`,
		Args: exactArgs(1, "HOST:PORT"),
	}
	fs := c.Flags()
	fs.SortFlags = false
	o.tls.register(fs, "auto", "verify the server's certificate: auto (as peer for a client), peer, query (report, never fail) or none")
	fs.StringVar(&o.verifyName, "verify-name", "", "host name the certificate must be valid for (default: HOST)")
	fs.StringVar(&o.serverName, "servername", "", "server name to send (SNI; default: the --verify-name)")
	fs.BoolVar(&o.noServerName, "no-servername", false, "send no server name (SNI)")
	fs.StringArrayVar(&o.ignores, "ignore", nil, "ignore one certificate problem: CODE@SHA256 as the report prints it, or CODE for any certificate (repeatable)")
	fs.BoolVar(&o.ignoreAll, "ignore-all", false, "ignore every certificate problem (dangerous)")
	fs.BoolVar(&o.ocsp, "ocsp", false, "request and check a stapled OCSP response")
	fs.StringVar(&o.starttls, "starttls", "", "upgrade a plain session first: "+strings.Join(starttlsProtocols, ", "))
	fs.StringVar(&o.proxy, "proxy", "", "proxy: socks5://[user:pass@]host:port, http://host:port, or env ($HTTPS_PROXY, $ALL_PROXY, $NO_PROXY)")
	fs.StringVar(&o.sessionOut, "session-out", "", "save the session ticket to this file (also --sess-out, as s_client)")
	fs.StringVar(&o.sessionIn, "session-in", "", "resume the session saved in this file (also --sess-in)")
	fs.StringVar(&o.pskIdentity, "psk-identity", "", "PSK identity (backends with PSK)")
	fs.StringVar(&o.pskKey, "psk-key", "", "PSK key, hex (backends with PSK)")
	fs.StringVar(&o.echConfig, "ech-config", "", "use Encrypted Client Hello with this configuration list: base64 (as serve --ech-key prints it) or a file")
	fs.StringVar(&o.send, "send", "", `send this text after the handshake (\r \n \t escapes), report what comes back, and exit`)
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "time for connecting and the handshake")
	fs.DurationVar(&o.confirm, "confirm-timeout", 10*time.Second, "after a TLS 1.3 handshake, how long to wait for the server to confirm it: its first record (a ticket, data, an alert) or its close")
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object and exit")
	fs.BoolVar(&o.showCerts, "showcerts", false, "print the peer's certificate chain as PEM (like s_client -showcerts)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print only the server's data (problems still go to standard error)")
	fs.BoolVar(&o.brief, "brief", false, "print only the one-line verdict (to standard error), then the server's data")
	fs.BoolVar(&o.crlf, "crlf", false, "send line ends from standard input as CRLF")
	fs.DurationVar(&o.eofIdle, "eof-idle", 2*time.Second, "once standard input has ended, close the session when the server has sent nothing for this long")
	fs.BoolVar(&o.waitClose, "wait-close", false, "once standard input has ended, keep reading until the server closes (like s_client -ign_eof)")
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name { // the flags' earlier names
		case "peer-name":
			name = "verify-name"
		case "settle":
			name = "confirm-timeout"
		}
		if alias, ok := sessionFlagAliases[name]; ok { // s_client's names
			name = alias
		}
		return pflag.NormalizedName(name)
	})
	c.RunE = a.command(func(args []string) (int, error) { return a.runConnect(&o, args[0]) })
	return c
}

// connectPlan is everything validated before connecting.
type connectPlan struct {
	host       string
	port       uint16
	addr       string
	verifyName string // the name the certificate is checked against
	sniDiffers bool   // --servername differs from the verify name
	cfg        ssl.Configuration
	ignores    []ignoreSpec
	proxy      ssl.Proxy
	roots      []ssl.Certificate // for re-verification against verifyName
}

// plan validates the command line; usage errors come before any file is
// read or connection made.
func (o *connectOpts) plan(target string, stderr io.Writer) (*connectPlan, error) {
	host, portStr, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		return nil, usagef("%q is not HOST:PORT", target)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, usagef("bad port %q in %q", portStr, target)
	}
	p := &connectPlan{host: host, port: uint16(port), addr: target, verifyName: host}
	if err := o.tls.check(); err != nil {
		return nil, err
	}
	if o.starttls != "" && !contains(starttlsProtocols, o.starttls) {
		return nil, usagef("--starttls must be one of %s, not %q", strings.Join(starttlsProtocols, ", "), o.starttls)
	}
	if o.timeout <= 0 {
		return nil, usagef("--timeout must be positive, not %s", o.timeout)
	}
	if o.eofIdle <= 0 {
		return nil, usagef("--eof-idle must be positive (--wait-close waits for the server to close)")
	}
	if o.confirm < 0 {
		return nil, usagef("--confirm-timeout must not be negative")
	}
	if o.quiet && o.brief {
		return nil, usagef("--quiet and --brief exclude each other")
	}
	if o.asJSON && (o.quiet || o.brief) {
		return nil, usagef("--json prints one object; --quiet and --brief do not apply")
	}
	if o.noServerName && o.serverName != "" {
		return nil, usagef("--servername and --no-servername exclude each other")
	}
	for _, s := range o.ignores {
		ig, err := parseIgnore(s)
		if err != nil {
			return nil, err
		}
		p.ignores = append(p.ignores, ig)
	}
	if o.pskIdentity != "" || o.pskKey != "" {
		if _, err := hex.DecodeString(o.pskKey); err != nil || o.pskKey == "" {
			return nil, usagef("--psk-key must be hex")
		}
	}
	switch {
	case o.proxy == "env":
		if p.proxy, err = ssl.ProxyFromEnvironment(host); err != nil {
			return nil, usagef("--proxy env: %v", err)
		}
	case o.proxy != "":
		if p.proxy, err = ssl.ParseProxyURL(o.proxy); err != nil {
			return nil, usagef("--proxy: %v", err)
		}
	}
	if o.verifyName != "" {
		p.verifyName = o.verifyName
	}
	p.sniDiffers = o.serverName != "" && o.serverName != p.verifyName

	// Files from here on: errors are failures (exit 1), not usage errors.
	if p.cfg, err = o.tls.configuration(stderr); err != nil {
		return nil, err
	}
	if (o.pskIdentity != "" || o.pskKey != "") && !ssl.IsFeatureSupported(ssl.FeaturePsk, o.tls.backendName()) {
		return nil, fmt.Errorf("the %s backend has no PSK support", o.tls.backendName())
	}
	if o.echConfig != "" {
		if !ssl.IsFeatureSupported(ssl.FeatureEncryptedClientHello, o.tls.backendName()) {
			return nil, fmt.Errorf("the %s backend has no Encrypted Client Hello (libssl 3.0 has none); use --backend go", o.tls.backendName())
		}
		list, err := readECHConfigArg(o.echConfig)
		if err != nil {
			return nil, err
		}
		if err := p.cfg.SetEncryptedClientHelloConfigList(list); err != nil {
			return nil, fmt.Errorf("--ech-config: %w", err)
		}
	}
	p.cfg.SetOcspStaplingEnabled(o.ocsp)
	// Keep tickets: a TLS 1.3 ticket is also the server's sign that it
	// accepted the handshake (see confirm.go).
	p.cfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	if o.noServerName {
		p.cfg.SetSslOption(ssl.SslOptionDisableServerNameIndication, true)
	}
	if o.sessionIn != "" {
		t, err := os.ReadFile(o.sessionIn)
		if err != nil {
			return nil, inputError("--session-in", o.sessionIn, err, "")
		}
		p.cfg.SetSessionTicket(t)
	}
	if p.sniDiffers {
		p.roots = p.cfg.CaCertificates()
		if p.cfg.AllowsOnDemandRoots() {
			p.roots = ssl.SystemCaCertificates()
		}
	}
	return p, nil
}

// session is what connect learned, filled from events and the socket.
type session struct {
	mu         sync.Mutex
	errs       []ssl.Error // the certificate problems (for the verify name)
	sockErrs   []ssl.Error // as the socket reported them
	alertsIn   []jsonAlert
	alertsOut  []jsonAlert
	fatalIn    *jsonAlert // a fatal alert received
	chainShown bool
}

func (a *app) runConnect(o *connectOpts, target string) (int, error) {
	p, err := o.plan(target, a.stderr)
	if err != nil {
		return exitFor(err), err
	}
	sock := ssl.NewSocket()
	defer sock.Abort()
	sock.SetSslConfiguration(p.cfg)
	if o.pskIdentity != "" || o.pskKey != "" {
		key, _ := hex.DecodeString(o.pskKey) // checked by plan
		sock.OnPreSharedKeyAuthenticationRequired(func(a *ssl.PreSharedKeyAuthenticator) {
			a.SetIdentity([]byte(o.pskIdentity))
			a.SetPreSharedKey(key)
		})
	}
	switch {
	case o.serverName != "":
		sock.SetPeerVerifyName(o.serverName) // the name sent; errors are recomputed for p.verifyName
	case o.verifyName != "":
		sock.SetPeerVerifyName(o.verifyName)
	}
	if o.proxy != "" {
		sock.SetProxy(p.proxy)
	}
	var ss session
	// Events: alerts, the server's confirmation, the certificate decision.
	alert := func(in bool) func(ssl.AlertLevel, ssl.AlertType, string) {
		return func(l ssl.AlertLevel, t ssl.AlertType, d string) {
			al := jsonAlert{Level: l.String(), Type: t.String(), Code: int(t), Description: d}
			ss.mu.Lock()
			defer ss.mu.Unlock()
			if !in {
				ss.alertsOut = append(ss.alertsOut, al)
				return
			}
			ss.alertsIn = append(ss.alertsIn, al)
			if l == ssl.AlertLevelFatal && ss.fatalIn == nil {
				ss.fatalIn = &al
			}
		}
	}
	sock.OnAlertReceived(alert(true))
	sock.OnAlertSent(alert(false))
	interactive := !o.asJSON && !o.ignoreAll && len(p.ignores) == 0 && a.stdinIsTerminal
	if interactive {
		sock.SetPauseMode(ssl.PauseOnSslErrors)
	}
	decide := make(chan struct{}, 1)
	accepts := func(errs []ssl.Error) bool { // without asking
		return o.tls.verify == "none" || o.tls.verify == "query" || o.ignoreAll || allMatched(errs, p.ignores)
	}
	sslErrorsSeen := false
	sock.OnSslErrors(func(reported []ssl.Error) {
		errs := reported
		if p.sniDiffers { // the socket checked the SNI name; the user asked about another
			errs = p.reverify(sock.PeerCertificateChain())
		}
		ss.mu.Lock()
		ss.errs, ss.sockErrs = errs, reported
		sslErrorsSeen = true
		ss.mu.Unlock()
		switch {
		case len(errs) == 0 || accepts(errs):
			sock.IgnoreSslErrorList(reported)
		case interactive:
			decide <- struct{}{}
		}
	})
	cw := watchConfirmation(sock)

	if o.starttls == "" {
		sock.ConnectToHostEncrypted(p.host, p.port)
	} else {
		sock.ConnectToHost(p.host, p.port)
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	timer := time.AfterFunc(o.timeout, cancel)
	defer timer.Stop()
	timedOut := func() bool { return a.ctx.Err() == nil && ctx.Err() != nil }

	rep := newReport(p, o)
	if o.starttls != "" {
		if err := sock.WaitForConnectedContext(ctx); err != nil {
			return a.finishFailed(o, p, sock, &ss, rep, a.describeWaitError(err, timedOut(), o.timeout, sock, p, "connecting to"))
		}
		if err := startTLS(sock, o.starttls, p.verifyName); err != nil {
			if timedOut() {
				err = fmt.Errorf("timed out after %s in the %s STARTTLS exchange with %s", o.timeout, o.starttls, p.addr)
			}
			return a.finishFailed(o, p, sock, &ss, rep, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- sock.WaitForEncryptedContext(ctx) }()
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-decide: // paused on certificate problems: show the chain, then ask
			timer.Stop()
			ss.mu.Lock()
			errs := ss.errs
			ss.chainShown = true
			ss.mu.Unlock()
			printChain(a.stdout, sock.PeerCertificateChain(), o.showCerts)
			printProblems(a.stdout, errs, sock.PeerCertificateChain(), p.verifyName)
			if askToContinue(a.stdin, a.stderr, errs) {
				ss.mu.Lock()
				reported := ss.sockErrs
				ss.mu.Unlock()
				sock.IgnoreSslErrorList(reported)
			}
			sock.Resume()
			timer.Reset(o.timeout)
		}
	}
	if err != nil {
		return a.finishFailed(o, p, sock, &ss, rep, a.describeWaitError(err, timedOut(), o.timeout, sock, p, "waiting for the TLS handshake with"))
	}
	timer.Stop()
	ss.mu.Lock()
	seen := sslErrorsSeen
	ss.mu.Unlock()
	if p.sniDiffers && !seen && o.tls.verify != "none" {
		// The socket found nothing wrong for the SNI name; the certificate
		// must still be valid for the verify name. Nothing has been sent yet.
		if errs := p.reverify(sock.PeerCertificateChain()); len(errs) > 0 {
			ss.mu.Lock()
			ss.errs = errs
			ss.mu.Unlock()
			ok := accepts(errs)
			if !ok && interactive {
				ss.mu.Lock()
				ss.chainShown = true
				ss.mu.Unlock()
				printChain(a.stdout, sock.PeerCertificateChain(), o.showCerts)
				printProblems(a.stdout, errs, sock.PeerCertificateChain(), p.verifyName)
				ok = askToContinue(a.stdin, a.stderr, errs)
			}
			if !ok {
				sock.Abort()
				return a.finishFailed(o, p, sock, &ss, rep, &ssl.VerificationError{Errors: errs})
			}
		}
	}
	cs := sock.ConnectionState()
	sslCfg := sock.SslConfiguration()
	ocsp := sock.OcspResponses()
	resumed := sock.IsSessionResumed()

	// The server's confirmation (confirm.go). Standard input is relayed
	// meanwhile, and --send's text sent: a server that sends nothing
	// before the client speaks confirms with its answer.
	var rl *relayer
	if !o.asJSON && o.send == "" {
		rl = a.startRelay(o, sock)
	}
	if o.send != "" {
		// A server may have answered and closed already: what it sent
		// is still to be read even if this write fails.
		_, _ = sock.Write([]byte(sendEscapes.Replace(o.send)))
	}
	rep.Confirmation = cw.wait(a.ctx, sock, cs.Version, o.confirm)
	if sock.State() != ssl.ConnectedState {
		// Ended already (perhaps by the server's alert): its events may
		// still be on their way; they are all delivered once the wait for
		// the disconnect returns.
		sock.WaitForDisconnected(2 * time.Second)
		rep.Confirmation = cw.outcome(sock) // the alert that ended it, if any
	}
	if o.send != "" {
		rep.Received = collect(sock, 2*time.Second)
	}
	if o.sessionOut != "" {
		if len(sock.SslConfiguration().SessionTicket()) == 0 && cs.Version == tls.VersionTLS13 {
			cw.waitTicket(time.Second) // a TLS 1.3 ticket follows the handshake
		}
		if t := sock.SslConfiguration().SessionTicket(); len(t) > 0 {
			if werr := os.WriteFile(o.sessionOut, t, 0o600); werr != nil {
				return 1, werr
			}
		} else {
			fmt.Fprintln(a.stderr, "sslsock: the server sent no session ticket; nothing saved")
		}
	}
	ss.mu.Lock()
	rep.fill(&ss, cs, sslCfg, ocsp, resumed, o.showCerts)
	ss.mu.Unlock()
	rep.TicketKey, rep.SessionOffered = sock.SessionTicketKeyID(), len(p.cfg.SessionTicket()) > 0
	rep.Encrypted = true
	rep.OK = rep.AlertAfterHandshake == nil
	rep.Verdict = rep.verdict(p, o)
	a.printReport(o, rep, sslCfg.PeerCertificateChain(), &ss)
	if !rep.OK {
		return 1, nil
	}
	if o.asJSON || o.send != "" {
		return 0, nil
	}
	return rl.run(&ss)
}

// reverify checks chain for the verify name, with the socket's roots.
func (p *connectPlan) reverify(chain []ssl.Certificate) []ssl.Error {
	return ssl.VerifyChain(chain, ssl.VerifyOptions{Roots: p.roots, HostName: p.verifyName, Depth: p.cfg.PeerVerifyDepth()})
}

// describeWaitError turns a failed wait into words.
func (a *app) describeWaitError(err error, timedOut bool, timeout time.Duration, sock *ssl.Socket, p *connectPlan, phase string) error {
	if timedOut {
		switch sock.State() {
		case ssl.HostLookupState:
			phase = "looking up"
		case ssl.ConnectingState:
			phase = "connecting to"
		}
		return fmt.Errorf("timed out after %s %s %s", timeout, phase, p.addr)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

func allMatched(errs []ssl.Error, ignores []ignoreSpec) bool {
	for _, e := range errs {
		ok := false
		for _, ig := range ignores {
			if e.Code == ig.code && (ig.sha == "" || (!e.Certificate.IsNull() && ig.sha == e.Certificate.SHA256())) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return len(errs) > 0
}

// collect reads what the server sends until it closes or is silent for
// idle.
func collect(sock *ssl.Socket, idle time.Duration) string {
	var got []byte
	buf := make([]byte, 32<<10)
	for len(got) < 1<<20 {
		_ = sock.SetReadDeadline(time.Now().Add(idle))
		n, err := sock.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	_ = sock.SetReadDeadline(time.Time{})
	return string(got)
}

// sendEscapes turns the escapes a shell user types into bytes.
var sendEscapes = strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\\`, `\`)

// finishFailed reports a connection that never became encrypted.
func (a *app) finishFailed(o *connectOpts, p *connectPlan, sock *ssl.Socket, ss *session, rep *connectReport, err error) (int, error) {
	ss.mu.Lock()
	rep.fill(ss, tls.ConnectionState{}, sock.SslConfiguration(), nil, false, o.showCerts)
	ss.mu.Unlock()
	rep.SocketError = sock.SocketError().String()
	rep.ErrorString = sock.ErrorString()
	var ve *ssl.VerificationError
	switch {
	case errors.As(err, &ve) && len(ve.Errors) > 0:
		rep.SocketError, rep.ErrorString = ssl.SslHandshakeFailedError.String(), ve.Errors[0].Error()
	case err != nil:
		rep.ErrorString = cleanMessage(err.Error())
	}
	var rejected *ssl.ECHRejectedError
	if errors.As(err, &rejected) && rep.ECH != nil && len(rejected.RetryConfigList) > 0 {
		rep.ECH.RetryConfigList = base64.StdEncoding.EncodeToString(rejected.RetryConfigList)
	}
	rep.Verdict = rep.verdict(p, o)
	a.printReport(o, rep, sock.PeerCertificateChain(), ss)
	if !o.asJSON && !o.brief { // the verdict, once, where failures go (--brief put it there already)
		fmt.Fprintf(a.stderr, "sslsock: %s\n", rep.Verdict)
	}
	if !o.asJSON {
		if o.pskKey != "" && len(rep.PeerChain) == 0 && o.tls.verify != "none" {
			fmt.Fprintln(a.stderr, "sslsock: a PSK server presents no certificate: add --verify none (the pre-shared key authenticates it)")
		}
	}
	return 1, nil
}

// askToContinue is the question Qt's documentation asks applications to put
// to the user, after showing the chain: continue only on an explicit yes.
func askToContinue(stdin io.Reader, stderr io.Writer, errs []ssl.Error) bool {
	fmt.Fprintf(stderr, "The server's certificate has %d problem(s) (listed above).\n", len(errs))
	fmt.Fprint(stderr, "Continue anyway? [y/N] ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// crlfReader turns "\n" not preceded by "\r" into "\r\n".
type crlfReader struct {
	r       *bufio.Reader
	pending []byte
	lastCR  bool
}

// Read reads with line ends converted.
func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.pending) > 0 {
			p[n] = c.pending[0]
			c.pending = c.pending[1:]
			n++
			continue
		}
		if n > 0 && c.r.Buffered() == 0 {
			break // do not block with data in hand
		}
		b, err := c.r.ReadByte()
		if err != nil {
			return n, err
		}
		if b == '\n' && !c.lastCR {
			c.pending = append(c.pending, '\n')
			b = '\r'
		}
		c.lastCR = b == '\r' && len(c.pending) == 0
		p[n] = b
		n++
	}
	return n, nil
}
