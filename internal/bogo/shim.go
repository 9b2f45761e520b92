package bogo

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// BackendEnv names the environment variable that chooses the backend when
// the command line has no -backend flag ("go" when neither is set).
const BackendEnv = "BOGO_SHIM_BACKEND"

// waitLimit bounds every wait of the shim: the runner kills a shim that is
// silent for 15 s, and a shim must never outlive its test.
const waitLimit = 30 * time.Second

// Wire versions the runner uses.
const (
	versionSSL30 = 0x0300
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
	versionTLS13 = 0x0304
)

// Run runs the shim with the runner's arguments and returns the process
// exit code: ExitOK, ExitFailure (the reason written to stderr) or
// ExitUnimplemented. Nothing is written to stderr on success: the runner
// fails a passing test that printed there.
func Run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args)
	if err != nil {
		return report(stderr, err)
	}
	if cfg.handshaker {
		// The runner asks whether the shim supports its split-handshake
		// ("handshaker") mode: it does not.
		fmt.Fprintln(stdout, "No")
		return ExitOK
	}
	if cfg.backend == "" {
		cfg.backend = os.Getenv(BackendEnv)
	}
	if cfg.backend == "" {
		cfg.backend = "go"
	}
	if !slices.Contains(ssl.AvailableBackends(), cfg.backend) {
		return report(stderr, fmt.Errorf("backend %q is not available (have %v)", cfg.backend, ssl.AvailableBackends()))
	}
	if cfg.port == "" {
		return report(stderr, errors.New("no -port"))
	}
	// Everything the shim cannot express is refused before it connects:
	// the runner then skips the test instead of failing it.
	var conns []*connConfig
	for i := 0; i <= cfg.resumeCount; i++ {
		o := cfg.initial
		if i > 0 {
			o = cfg.resume
		}
		cc, err := newConnConfig(cfg, o)
		if err != nil {
			return report(stderr, err)
		}
		conns = append(conns, cc)
	}
	var ticket []byte
	for i, cc := range conns {
		cc.ticket = ticket
		t, err := runConnection(cfg, cc, i > 0)
		if err != nil {
			return report(stderr, fmt.Errorf("connection %d: %w", i, err))
		}
		ticket = t
	}
	return ExitOK
}

// report writes err and returns its exit code.
func report(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "bogo-shim: %v\n", err)
	if errors.Is(err, errUnimplemented) {
		logUnimplemented(err)
		return ExitUnimplemented
	}
	return ExitFailure
}

// UnimplementedLogEnv names an environment variable: when set, the shim
// appends the reason for each exit 89 to that file, one line each (the
// runner's results only say SKIP).
const UnimplementedLogEnv = "BOGO_SHIM_UNIMPLEMENTED_LOG"

func logUnimplemented(err error) {
	path := os.Getenv(UnimplementedLogEnv)
	if path == "" {
		return
	}
	f, ferr := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if ferr != nil {
		return
	}
	fmt.Fprintln(f, err)
	f.Close()
}

func unimplemented(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnimplemented, fmt.Sprintf(format, args...))
}

// connConfig is one connection's settings, translated to the library.
type connConfig struct {
	o       *options
	server  bool
	backend string
	conf    ssl.Configuration
	// verifyName is the name the client checks the server's certificate
	// against (and sends as SNI unless SNI is off).
	verifyName string
	peerChain  []ssl.Certificate // -expect-peer-cert-file
	ignore     []ssl.Error       // verification errors the application ignores
	ticket     []byte            // the session to resume (client)
}

// newConnConfig builds the Configuration a user would build for the test.
func newConnConfig(cfg *config, o *options) (*connConfig, error) {
	cc := &connConfig{o: o, server: cfg.server, backend: cfg.backend}
	c := ssl.DefaultConfiguration()
	c.SetBackend(cfg.backend)

	p, err := protocolFor(o)
	if err != nil {
		return nil, err
	}
	c.SetProtocol(p)

	if o.has("cert-file") || o.has("key-file") {
		if err := c.LoadKeyPair(o.str("cert-file"), o.str("key-file"), nil); err != nil {
			return nil, err
		}
	}
	if o.str("trust-cert") != "" { // empty for the runner's garbage certificate
		c.SetCaCertificates(nil)
		if err := c.SetCaCertificatesFile(o.str("trust-cert")); err != nil {
			return nil, err
		}
	}
	if o.has("expect-peer-cert-file") {
		certs, err := ssl.CertificatesFromPath(o.str("expect-peer-cert-file"), ssl.Pem, ssl.FixedString)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("reading -expect-peer-cert-file: %v", err)
		}
		cc.peerChain = certs
	}

	if cfg.server {
		switch {
		case o.bool("require-any-client-certificate"):
			c.SetPeerVerifyMode(ssl.VerifyPeer)
			c.SetMissingCertificateIsFatal(true)
		case o.bool("verify-peer"):
			// BoringSSL's SSL_VERIFY_PEER on a server verifies a
			// certificate if one comes; Qt's VerifyPeer reports a missing
			// one (NoPeerCertificate), which the application ignores.
			c.SetPeerVerifyMode(ssl.VerifyPeer)
			cc.ignore = append(cc.ignore, ssl.NewError(ssl.NoPeerCertificate, ssl.Certificate{}))
		default:
			// BoringSSL servers ask for no certificate unless told to;
			// Qt's AutoVerifyPeer would ask (QueryPeer).
			c.SetPeerVerifyMode(ssl.VerifyNone)
		}
		if o.has("ocsp-response") {
			c.SetOcspStaple(o.bytes("ocsp-response"))
		}
		if o.has("advertise-alpn") || o.has("enable-ocsp-stapling") || o.has("expect-ocsp-response") {
			return nil, unimplemented("client-only flag on a server")
		}
	} else {
		// BoringSSL's client verifies and goes on whatever the result
		// (SSL_VERIFY_NONE) unless told -verify-peer: Qt's QueryPeer.
		c.SetPeerVerifyMode(ssl.QueryPeer)
		if o.bool("verify-peer") {
			c.SetPeerVerifyMode(ssl.VerifyPeer)
		}
		cc.verifyName = "test" // the name in the runner's certificates
		if o.has("host-name") {
			cc.verifyName = o.str("host-name")
		} else {
			// BoringSSL clients send no SNI unless given a name.
			c.SetSslOption(ssl.SslOptionDisableServerNameIndication, true)
		}
		if o.bool("enable-ocsp-stapling") && cfg.backend != "go" {
			// Qt's OCSP stapling verifies the staple, and a staple that is
			// no OCSP response fails the handshake; the runner staples
			// opaque bytes. crypto/tls asks for a staple on every
			// connection, so the go backend sees it without the option.
			return nil, unimplemented("-enable-ocsp-stapling with opaque staples on the %s backend", cfg.backend)
		}
		if o.has("require-any-client-certificate") || o.has("select-alpn") || o.has("decline-alpn") ||
			o.has("reject-alpn") || o.has("ocsp-response") || o.has("expect-server-name") {
			return nil, unimplemented("server-only flag on a client")
		}
		if !o.bool("no-ticket") {
			c.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
		}
	}
	if o.bool("verify-fail") {
		// The application refuses the peer's certificate. A Qt
		// application states what it trusts, and the peer does not
		// match it: a client expects another name, a server trusts no
		// CA at all.
		if cfg.server {
			c.SetCaCertificates([]ssl.Certificate{})
		} else {
			cc.verifyName = "bogo-shim-refuses-this-name.invalid"
		}
	}
	if o.has("export-keying-material") && cfg.backend != "go" {
		return nil, unimplemented("keying material exporter on the %s backend", cfg.backend)
	}
	if o.bool("no-ticket") {
		c.SetSslOption(ssl.SslOptionDisableSessionTickets, true)
	}

	// BoringSSL enables every suite it implements by default, RSA key
	// exchange and CBC included; the runner's tests assume it. A Qt user
	// asks for the same with SetCiphers(SupportedCiphers()).
	c.SetCiphers(ssl.SupportedCiphersFor(cfg.backend))
	if o.has("cipher") {
		if unknown := c.SetCiphersString(o.str("cipher")); len(unknown) > 0 {
			return nil, unimplemented("cipher list %q (unknown: %v)", o.str("cipher"), unknown)
		}
	}
	if o.has("curves") {
		var curves []ssl.EllipticCurve
		for _, id := range o.intList("curves") {
			ec := ssl.CurveFromTLSGroup(tls.CurveID(id))
			if !ec.IsValid() {
				return nil, unimplemented("group %d has no EllipticCurve", id)
			}
			curves = append(curves, ec)
		}
		c.SetEllipticCurves(curves)
	}
	if cfg.backend != "go" && (o.has("expect-curve-id") || o.has("expect-hrr") || o.has("expect-no-hrr")) {
		return nil, unimplemented("the %s backend does not report the group or a HelloRetryRequest", cfg.backend)
	}

	switch {
	case o.has("advertise-alpn"):
		protos, err := parseALPN(o.str("advertise-alpn"))
		if err != nil {
			return nil, err
		}
		c.SetAllowedNextProtocols(protos)
	case o.bool("reject-alpn"):
		// A server that accepts no protocol the client offers: the
		// handshake ends with no_application_protocol.
		c.SetAllowedNextProtocols([]string{"\x00bogo-shim-rejects-every-protocol"})
	case o.has("select-alpn"):
		c.SetAllowedNextProtocols([]string{o.str("select-alpn")})
	}
	if o.bool("shim-shuts-down") && o.bool("check-close-notify") {
		// Send close_notify, then read until the peer's: a half-close,
		// which Qt's API (disconnectFromHost closes both ways) lacks.
		return nil, unimplemented("-shim-shuts-down with -check-close-notify")
	}
	cc.conf = c
	return cc, nil
}

// parseALPN splits BoringSSL's wire form (length-prefixed names).
func parseALPN(s string) ([]string, error) {
	var out []string
	for len(s) > 0 {
		n := int(s[0])
		if n == 0 || n+1 > len(s) {
			return nil, fmt.Errorf("malformed ALPN list %q", s)
		}
		out = append(out, s[1:1+n])
		s = s[1+n:]
	}
	return out, nil
}

// protocolFor maps the runner's version flags to Qt's SslProtocol. Qt's
// enum holds single versions and "version or later"; a range with an upper
// bound below TLS 1.3 and more than one version cannot be expressed.
func protocolFor(o *options) (ssl.Protocol, error) {
	versionFlags := o.has("min-version") || o.has("max-version") || o.has("no-tls1") ||
		o.has("no-tls11") || o.has("no-tls12") || o.has("no-tls13")
	if !versionFlags {
		// BoringSSL's default range, which the runner's tests assume
		// (Qt's default, SecureProtocols, starts at TLS 1.2).
		return ssl.TlsV1_0OrLater, nil
	}
	minV := o.int("min-version", versionTLS10)
	maxV := o.int("max-version", versionTLS13)
	if minV < versionTLS10 {
		minV = versionTLS10 // SSL 3.0 exists in neither backend
	}
	allowed := map[int64]bool{
		versionTLS10: !o.bool("no-tls1"), versionTLS11: !o.bool("no-tls11"),
		versionTLS12: !o.bool("no-tls12"), versionTLS13: !o.bool("no-tls13"),
	}
	lo, hi := int64(0), int64(0)
	for v := int64(versionTLS10); v <= versionTLS13; v++ {
		if v < minV || v > maxV {
			continue
		}
		if !allowed[v] {
			if lo != 0 && hi == v-1 {
				// a hole: versions after it are unreachable, as in OpenSSL
				break
			}
			continue
		}
		if lo == 0 {
			lo = v
		}
		hi = v
	}
	if lo == 0 {
		return 0, unimplemented("no TLS version enabled")
	}
	if lo == hi {
		return ssl.ProtocolFromVersion(uint16(lo)), nil
	}
	if hi == versionTLS13 {
		switch lo {
		case versionTLS10:
			return ssl.TlsV1_0OrLater, nil
		case versionTLS11:
			return ssl.TlsV1_1OrLater, nil
		case versionTLS12:
			return ssl.TlsV1_2OrLater, nil
		}
	}
	return 0, unimplemented("version range %#x-%#x (Qt's SslProtocol has no upper bound below TLS 1.3)", lo, hi)
}

// drainWait bounds the wait for the socket's orderly close (its drain
// stops by itself after 2 s).
const drainWait = 5 * time.Second

// dialAddr is the runner's address: it listens on ::1 when it can, and
// says so with -ipv6; "localhost" may resolve to the other family.
func dialAddr(cfg *config) string {
	host := "127.0.0.1"
	if cfg.ipv6 {
		host = "::1"
	}
	return net.JoinHostPort(host, cfg.port)
}

// runConnection runs one connection and returns the session ticket it
// received (client side).
func runConnection(cfg *config, cc *connConfig, resumed bool) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", dialAddr(cfg), waitLimit)
	if err != nil {
		return nil, err
	}
	var id [8]byte
	binary.LittleEndian.PutUint64(id[:], cfg.shimID)
	if _, err := conn.Write(id[:]); err != nil {
		conn.Close()
		return nil, err
	}
	conf := cc.conf
	if !cc.server && len(cc.ticket) > 0 {
		conf.SetSessionTicket(cc.ticket)
	}
	sock := ssl.NewSocketFromConn(conn)
	defer func() {
		// Graceful: close_notify, unless a fatal alert ended the
		// connection; then the socket half-closes and drains what the
		// runner still sends before closing, so that the runner reads the
		// alert instead of a reset. That drain runs in the background: the
		// shim waits for it (it is bounded) before the process exits.
		sock.Close()
		ctx, cancel := context.WithTimeout(context.Background(), drainWait)
		defer cancel()
		_ = ssl.WaitForOrderlyCloses(ctx)
	}()
	sock.SetSslConfiguration(conf)
	if !cc.server {
		sock.SetPeerVerifyName(cc.verifyName)
	}
	if len(cc.ignore) > 0 {
		sock.IgnoreSslErrorList(cc.ignore)
	}
	if cc.server {
		err = sock.StartServerEncryption()
	} else {
		err = sock.StartClientEncryption()
	}
	if err != nil {
		return nil, err
	}
	o := cc.o
	if o.bool("shim-writes-first") {
		// Written before the handshake ends: the socket queues it and
		// sends it right after.
		if _, err := sock.Write([]byte("hello")); err != nil {
			return nil, err
		}
	}
	if !sock.WaitForEncrypted(waitLimit) {
		return nil, fmt.Errorf("handshake failed: %s (%v)", sock.ErrorString(), sock.SslHandshakeErrors())
	}
	if err := checkSession(cc, sock, resumed); err != nil {
		return nil, err
	}
	if n := o.int("export-keying-material", 0); n > 0 {
		var context []byte
		if o.bool("use-export-context") {
			context = []byte(o.str("export-context"))
		}
		cs := sock.ConnectionState()
		km, err := cs.ExportKeyingMaterial(o.str("export-label"), context, int(n))
		if err != nil {
			return nil, fmt.Errorf("exporting keying material: %w", err)
		}
		if _, err := sock.Write(km); err != nil {
			return nil, err
		}
	}
	if o.bool("shim-shuts-down") {
		// The shim ends the connection: close_notify, then the TCP close.
		sock.DisconnectFromHost()
		if !sock.WaitForDisconnected(waitLimit) && sock.State() != ssl.UnconnectedState {
			return nil, fmt.Errorf("disconnecting: %s", sock.ErrorString())
		}
		return sock.SslConfiguration().SessionTicket(), nil
	}
	if err := echo(sock, o.bool("check-close-notify")); err != nil {
		return nil, err
	}
	ticket := sock.SslConfiguration().SessionTicket()
	if o.bool("expect-no-session") && len(ticket) > 0 {
		return nil, errors.New("received a session, want none")
	}
	return ticket, nil
}

// echo answers each read with its bytes XOR 0xFF until the runner closes.
func echo(sock *ssl.Socket, checkCloseNotify bool) error {
	buf := make([]byte, 16<<10)
	if err := sock.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		return err
	}
	for {
		n, err := sock.Read(buf)
		xorFF(buf[:n])
		if n > 0 {
			if _, werr := sock.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case errors.Is(err, ssl.ErrUncleanShutdown) && !checkCloseNotify:
			return nil
		}
		return err
	}
}

// xorFF flips every bit of b: the runner checks the echo this way.
func xorFF(b []byte) {
	for i := range b {
		b[i] ^= 0xff
	}
}

// checkSession checks the -expect-* flags against the negotiated session.
func checkSession(cc *connConfig, sock *ssl.Socket, resumed bool) error {
	o := cc.o
	cs := sock.ConnectionState()
	if v := o.int("expect-version", 0); v != 0 && int64(cs.Version) != v {
		return fmt.Errorf("version %#x, want %#x", cs.Version, v)
	}
	if v := o.int("expect-cipher", 0); v != 0 && int64(sock.SessionCipher().ID()) != v {
		return fmt.Errorf("cipher %#x, want %#x", sock.SessionCipher().ID(), v)
	}
	if o.has("expect-curve-id") && int64(cs.CurveID) != o.int("expect-curve-id", 0) {
		return fmt.Errorf("group %d, want %d", cs.CurveID, o.int("expect-curve-id", 0))
	}
	if o.bool("expect-hrr") && !cs.HelloRetryRequest {
		return errors.New("expected a HelloRetryRequest")
	}
	if o.bool("expect-no-hrr") && cs.HelloRetryRequest {
		return errors.New("unexpected HelloRetryRequest")
	}
	alpn := sock.SslConfiguration().NextNegotiatedProtocol()
	if o.has("expect-alpn") && alpn != o.str("expect-alpn") {
		return fmt.Errorf("ALPN %q, want %q", alpn, o.str("expect-alpn"))
	}
	if o.bool("decline-alpn") && alpn != "" {
		return fmt.Errorf("ALPN %q negotiated, want none", alpn)
	}
	if o.has("expect-server-name") && cs.ServerName != o.str("expect-server-name") {
		return fmt.Errorf("server name %q, want %q", cs.ServerName, o.str("expect-server-name"))
	}
	if o.bool("expect-no-server-name") && cs.ServerName != "" {
		return fmt.Errorf("server name %q, want none", cs.ServerName)
	}
	if o.has("expect-ocsp-response") && !bytes.Equal(cs.OCSPResponse, o.bytes("expect-ocsp-response")) {
		return fmt.Errorf("OCSP response %x, want %x", cs.OCSPResponse, o.bytes("expect-ocsp-response"))
	}
	if cc.peerChain != nil {
		got := sock.PeerCertificateChain()
		if len(got) != len(cc.peerChain) {
			return fmt.Errorf("peer chain has %d certificates, want %d", len(got), len(cc.peerChain))
		}
		for i := range got {
			if !bytes.Equal(got[i].ToDer(), cc.peerChain[i].ToDer()) {
				return fmt.Errorf("peer certificate %d differs", i)
			}
		}
	}
	if o.bool("expect-verify-result") {
		var errs []ssl.Error // the verdict: what the application did not ignore
		for _, e := range sock.SslHandshakeErrors() {
			if !slices.ContainsFunc(cc.ignore, e.Equal) {
				errs = append(errs, e)
			}
		}
		if o.bool("verify-fail") && len(errs) == 0 {
			return errors.New("verification passed, want a failure")
		}
		if !o.bool("verify-fail") && len(errs) > 0 {
			return fmt.Errorf("verification failed: %v", errs)
		}
	}
	if resumed {
		did := sock.IsSessionResumed()
		if o.bool("expect-session-miss") && did {
			return errors.New("session resumed, want a miss")
		}
		if !o.bool("expect-session-miss") && !did {
			return errors.New("session was not resumed")
		}
	}
	return nil
}
