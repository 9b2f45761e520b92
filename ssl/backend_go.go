package ssl

import (
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// goBackend is the "go" backend: crypto/tls. It cannot do PSK, DHE, sent or
// warning-level alerts, or tell a ticket's lifetime hint; SupportedFeatures
// says so and such requests fail with ErrUnsupported.
type goBackend struct{}

func init() { RegisterBackend(goBackend{}) }

func (goBackend) Name() string { return "go" }

func (goBackend) SupportedProtocols() []Protocol {
	return []Protocol{AnyProtocol, SecureProtocols, TlsV1_0, TlsV1_0OrLater, TlsV1_1, TlsV1_1OrLater,
		TlsV1_2, TlsV1_2OrLater, TlsV1_3, TlsV1_3OrLater}
}

func (goBackend) SupportedFeatures() []SupportedFeature {
	return []SupportedFeature{FeatureCertificateVerification, FeatureClientSideAlpn, FeatureServerSideAlpn,
		FeatureOcsp, FeatureSessionTicket, FeatureSessionTicketKeys, FeatureEncryptedClientHello}
}

func (goBackend) ImplementedClasses() []ImplementedClass {
	return []ImplementedClass{ClassKey, ClassCertificate, ClassSocket, ClassDiffieHellman, ClassEllipticCurve}
}

func (goBackend) SupportedCiphers() []Cipher               { return goSupportedCiphers() }
func (goBackend) SupportedEllipticCurves() []EllipticCurve { return SupportedEllipticCurves() }

// goVersion encodes runtime.Version() ("go1.26.8") as OpenSSL encodes its
// versions: 0xMNN00PP0.
func goVersion() int64 {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(strings.Fields(v)[0], ".", 3)
	var n [3]int64
	for i := 0; i < len(parts) && i < 3; i++ {
		x, _ := strconv.ParseInt(strings.TrimRightFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' }), 10, 64)
		n[i] = x
	}
	return n[0]<<28 | n[1]<<20 | n[2]<<4
}

func (goBackend) LibraryVersionNumber() int64       { return goVersion() }
func (goBackend) LibraryVersionString() string      { return "Go crypto/tls " + runtime.Version() }
func (goBackend) LibraryBuildVersionNumber() int64  { return goVersion() }
func (goBackend) LibraryBuildVersionString() string { return "Go crypto/tls " + runtime.Version() }

func invalidUserData(msg string) error { return fmt.Errorf("%w: %s", ErrInvalidUserData, msg) }

// tls13Suites are the TLS 1.3 suites crypto/tls always enables.
var tls13Suites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}

// goTLSConfig translates a Configuration into a tls.Config.
func goTLSConfig(p SessionParams, sh *goShared) (*tls.Config, error) {
	cfg := p.Config
	minV, maxV, ok := cfg.Protocol().VersionRange()
	if !ok {
		return nil, invalidUserData("Attempted to use an unsupported protocol.")
	}
	tc := &tls.Config{MinVersion: minV, MaxVersion: maxV, Renegotiation: tls.RenegotiateNever}
	if ciphers := cfg.Ciphers(); len(ciphers) > 0 {
		var pre13, in13 []uint16
		for _, c := range ciphers {
			if !goCipherSuite(c) {
				return nil, fmt.Errorf("%w: the go backend cannot negotiate %s (crypto/tls does not implement it; the openssl backend can)", ErrUnsupported, c.Name())
			}
			if c.Protocol() == TlsV1_3 {
				in13 = append(in13, c.ID())
			} else {
				pre13 = append(pre13, c.ID())
			}
		}
		if len(in13) > 0 && len(in13) < len(tls13Suites) {
			return nil, fmt.Errorf("%w: the go backend cannot restrict TLS 1.3 cipher suites (crypto/tls enables all three)", ErrUnsupported)
		}
		tc.CipherSuites = pre13
		switch {
		case len(in13) == 0 && len(pre13) == 0:
			return nil, invalidUserData("Invalid or empty cipher list")
		case len(in13) == 0: // no TLS 1.3 suite asked for: no TLS 1.3
			if tc.MaxVersion == 0 || tc.MaxVersion > tls.VersionTLS12 {
				tc.MaxVersion = tls.VersionTLS12
			}
		case len(pre13) == 0: // only TLS 1.3 suites
			tc.MinVersion = tls.VersionTLS13
		}
		if tc.MaxVersion != 0 && tc.MinVersion > tc.MaxVersion {
			return nil, invalidUserData("Invalid or empty cipher list")
		}
	}
	for _, c := range cfg.EllipticCurves() {
		if !slices.Contains(SupportedEllipticCurves(), c) {
			return nil, invalidUserData(fmt.Sprintf("Error when setting the elliptic curves (%s is not supported)", c.ShortName()))
		}
		tc.CurvePreferences = append(tc.CurvePreferences, c.TLSGroup())
	}
	if chain := cfg.LocalCertificateChain(); len(chain) > 0 {
		cert, err := goCertificate(chain, cfg.PrivateKey(), cfg.OcspStaple())
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if len(cfg.PreSharedKeyIdentityHint()) > 0 {
		return nil, fmt.Errorf("%w: PSK", ErrUnsupported)
	}
	if sh != nil {
		tc.VerifyConnection = sh.verifyConnection
	}
	tc.SessionTicketsDisabled = cfg.TestSslOption(SslOptionDisableSessionTickets)
	ticketKeys := cfg.SessionTicketKeys()
	if p.Server && ticketKeys != nil {
		if err := goTicketKeys(tc, ticketKeys, sh); err != nil {
			return nil, err
		}
	} else if p.Server {
		keys, _ := sessionTicketKeys()
		tc.SetSessionTicketKeys(keys)
	} else if !cfg.TestSslOption(SslOptionDisableSessionPersistence) && !tc.SessionTicketsDisabled {
		cache := &sessionCache{hooks: p.Hooks}
		if t := cfg.SessionTicket(); len(t) > 0 {
			cs, err := decodeSession(t)
			if err != nil {
				return nil, invalidUserData("Invalid session ticket: " + err.Error())
			}
			cache.offered = cs
			if ticket, _, err := cs.ResumptionState(); err == nil && sh != nil {
				sh.noteOfferedTicket(ticket)
			}
		}
		tc.ClientSessionCache = cache
	}
	tc.NextProtos = cfg.AllowedNextProtocols()
	tc.KeyLogWriter = cfg.KeyLogWriter()
	if err := goECH(tc, p, sh); err != nil { // backend_go_ech.go
		return nil, err
	}
	if p.Server {
		switch {
		case cfg.PeerVerifyMode() == VerifyNone:
			tc.ClientAuth = tls.NoClientCert
		case cfg.PeerVerifyMode() == VerifyPeer && cfg.MissingCertificateIsFatal():
			tc.ClientAuth = tls.RequireAnyClientCert
		default:
			// Never ClientCAs: crypto/tls clients would then silently
			// withhold certificates that do not chain to the listed CAs.
			tc.ClientAuth = tls.RequestClientCert
		}
		if protos := tc.NextProtos; len(protos) > 0 {
			tc = alpnByClientPreference(tc, protos, sh)
		}
		if ticketKeys != nil && sh == nil {
			goNoteTicketKeys(tc, ticketKeys)
		}
	} else {
		tc.InsecureSkipVerify = true // our verifier runs in VerifyConnection
		tc.ServerName = p.ServerName
		if len(tc.Certificates) > 0 {
			tc.GetClientCertificate = clientCertificateAsQt(tc.Certificates[0])
		}
	}
	return tc, nil
}

// clientCertificateAsQt answers a CertificateRequest as Qt on OpenSSL
// does: with the local certificate whatever CAs the server names (the
// server decides whether it trusts it; crypto/tls alone would silently
// send none when the issuer is not listed), and with no certificate only
// when it can sign with none of the server's signature algorithms.
func clientCertificateAsQt(cert tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		anyCA := *cri
		anyCA.AcceptableCAs = nil
		if anyCA.SupportsCertificate(&cert) != nil {
			return &tls.Certificate{}, nil
		}
		return &cert, nil
	}
}

// alpnByClientPreference makes base choose, of the protocols it offers,
// the one the client prefers, as Qt on OpenSSL does (crypto/tls prefers
// the server's order). Per connection (sh set) the configuration for the
// chosen protocol is made when the ClientHello comes; shared (sh nil) one
// is made per protocol now, and "no overlap" is noted on the transport.
func alpnByClientPreference(base *tls.Config, protos []string, sh *goShared) *tls.Config {
	var perProto map[string]*tls.Config
	if sh == nil {
		perProto = make(map[string]*tls.Config, len(protos))
		for _, p := range protos {
			c := base.Clone()
			c.NextProtos = []string{p}
			perProto[p] = c
		}
	}
	tc := base.Clone()
	tc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		for _, p := range hello.SupportedProtos { // the client's order
			if !slices.Contains(protos, p) {
				continue
			}
			if perProto != nil {
				return perProto[p], nil
			}
			c := base.Clone()
			c.NextProtos = []string{p}
			return c, nil
		}
		// No overlap: crypto/tls ends the handshake with
		// no_application_protocol, as RFC 7301 asks (Qt's server answers
		// with a protocol the client never offered).
		noOverlap := len(hello.SupportedProtos) > 0
		if sh != nil {
			sh.alpnNoOverlap.Store(noOverlap)
		} else if tr, ok := hello.Conn.(*goTransport); ok {
			tr.alpnNoOverlap.Store(noOverlap)
		}
		return nil, nil // the configuration as it is
	}
	return tc
}

// goServerConfig is the go backend's server configuration shared by every
// connection of a snapshot (no per-connection verification callback: the
// peer is verified after the handshake, see goStream.verifyAfter). It is
// made once, and again each day when the session ticket keys rotate.
func (cp *configPrep) goServerConfig(p SessionParams) (*tls.Config, error) {
	_, gen := sessionTicketKeys()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !cp.goServerMade || cp.goKeysGen != gen { // made again when the ticket keys rotate
		cp.goServer, cp.goServerErr = goTLSConfig(p, nil)
		cp.goServerMade, cp.goKeysGen = true, gen
	}
	return cp.goServer, cp.goServerErr
}

// goCertificate builds crypto/tls's certificate from a chain and its key.
func goCertificate(chain []Certificate, key Key, staple []byte) (tls.Certificate, error) {
	if key.IsNull() {
		return tls.Certificate{}, invalidUserData("Cannot provide a certificate with no key")
	}
	signer, ok := key.Handle().(crypto.Signer)
	if !ok || key.Type() != PrivateKey {
		return tls.Certificate{}, invalidUserData("The private key cannot sign")
	}
	leaf := chain[0].X509()
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := signer.Public().(equaler); !ok || !pub.Equal(leaf.PublicKey) {
		return tls.Certificate{}, invalidUserData("Private key does not certify public key")
	}
	cert := tls.Certificate{PrivateKey: signer, Leaf: leaf, OCSPStaple: staple}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.X509().Raw)
	}
	return cert, nil
}

// goShared is what the go backend's stream and engine share: the hooks,
// and what crypto/tls does not report itself.
type goShared struct {
	hooks         SessionHooks
	alpnNoOverlap atomic.Bool
	verifyFailed  atomic.Bool // our verification refused the peer: crypto/tls sent bad_certificate

	closeNotified atomic.Bool // the peer's close_notify was reported

	// ticketKeyID identifies the session-ticket key of a resumed session
	// (ticketkeys_go.go): on a server the key that opened the ticket, on a
	// client the one named in the ticket offered.
	ticketKeyID atomic.Pointer[string]

	fatalMu sync.Mutex
	fatal   error // a fatal alert was sent or received: no close_notify any more
	// retryVerify, when set, waits until the owner retries a handshake
	// paused in VerifyPeer (the engine core); without it a pause fails.
	retryVerify func() bool

	// Encrypted Client Hello (backend_go_ech.go): a client's settings
	// (set with the configuration), the outer name a server saw.
	echClient *goECHClient
	echOuter  atomic.Pointer[string]
}

// verifyConnection is crypto/tls's VerifyConnection: our verifier decides,
// through the hooks.
func (sh *goShared) verifyConnection(cs tls.ConnectionState) error {
	chain := make([]Certificate, len(cs.PeerCertificates))
	for i, x := range cs.PeerCertificates {
		chain[i] = NewCertificate(x)
	}
	for {
		err := sh.hooks.VerifyPeer(chain, cs.OCSPResponse)
		if errors.Is(err, ErrWantRetryVerify) && sh.retryVerify != nil && sh.retryVerify() {
			continue
		}
		if err != nil {
			sh.verifyFailed.Store(true)
		}
		return err
	}
}

// setFatal latches the error that ended the connection.
func (sh *goShared) setFatal(err error) {
	sh.fatalMu.Lock()
	if sh.fatal == nil {
		sh.fatal = err
	}
	sh.fatalMu.Unlock()
}

// fatalErr is the error that ended the connection, if one did.
func (sh *goShared) fatalErr() error {
	sh.fatalMu.Lock()
	defer sh.fatalMu.Unlock()
	return sh.fatal
}

// handshakeFailed reports the alerts a failed handshake sent or received.
func (sh *goShared) handshakeFailed(err error) {
	sh.setFatal(err)
	if code, ok := receivedAlert(err); ok {
		sh.hooks.Alert(false, AlertLevelFatal, AlertType(code), alertDescription(err))
		return
	}
	var echRejected *ECHRejectedError
	switch {
	case sh.verifyFailed.Load():
		sh.hooks.Alert(true, AlertLevelFatal, AlertBadCertificate, "bad certificate")
	case errors.As(err, &echRejected):
		sh.hooks.Alert(true, AlertLevelFatal, AlertEchRequired, "ech required")
	case sh.alpnNoOverlap.Load() && strings.Contains(err.Error(), "application protocol"):
		sh.hooks.Alert(true, AlertLevelFatal, AlertNoApplicationProtocol, "no application protocol")
	}
}

// readFailed reports an alert that ended the stream. crypto/tls returns
// io.EOF for close_notify and for a TCP close: transportEOF tells them
// apart. Any other error means an alert was received, or sent (bad record
// MAC, unexpected message, …): no close_notify may follow.
func (sh *goShared) readFailed(err error, transportEOF bool) {
	if isTimeout(err) {
		// A read deadline (net/http aborts its background read with one in
		// the past): crypto/tls does not latch it, the connection goes on,
		// and its close still sends close_notify.
		return
	}
	if errors.Is(err, io.EOF) {
		if !transportEOF && sh.closeNotified.CompareAndSwap(false, true) {
			sh.hooks.Alert(false, AlertLevelWarning, AlertCloseNotify, "close notify")
		}
		return
	}
	sh.setFatal(err)
	if code, ok := receivedAlert(err); ok {
		sh.hooks.Alert(false, AlertLevelFatal, AlertType(code), alertDescription(err))
	}
}

// receivedAlert recovers a fatal alert from crypto/tls's error: a
// *net.OpError "remote error" whose Err is the unexported alert type (a uint8).
func receivedAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	v := reflect.ValueOf(op.Err)
	if v.Kind() != reflect.Uint8 {
		return 0, false
	}
	return uint8(v.Uint()), true
}

func alertDescription(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return strings.TrimPrefix(op.Err.Error(), "tls: ")
	}
	return "no description provided"
}

// state converts crypto/tls's view of the session.
func (sh *goShared) state(cs tls.ConnectionState) SessionState {
	st := SessionState{Version: cs.Version, Cipher: CipherFromID(cs.CipherSuite), ALPN: cs.NegotiatedProtocol,
		OCSPResponse: cs.OCSPResponse, Resumed: cs.DidResume, ServerName: cs.ServerName,
		TicketKeyID: sh.resumedTicketKey(cs.DidResume)}
	sh.echState(&st, cs)
	for _, x := range cs.PeerCertificates {
		st.PeerChain = append(st.PeerChain, NewCertificate(x))
	}
	switch {
	case cs.NegotiatedProtocol != "":
		st.ALPNStatus = NextProtocolNegotiationNegotiated
	case sh.alpnNoOverlap.Load():
		// Qt reports no overlap as Unsupported and forces http/1.1.
		st.ALPNStatus, st.ALPN = NextProtocolNegotiationUnsupported, NextProtocolHttp1_1
	}
	return st
}
