package ssl

import (
	"crypto/tls"
	"io"
	"slices"
	"sync"
)

// Configuration is QSslConfiguration: everything a socket needs to set up a
// TLS session, plus (on a socket's copy) the state of the negotiated session.
// It is a value type: assignment copies it (use Clone for a deep copy if you
// will modify slices in place). The zero Configuration is Qt's "null"
// configuration: SecureProtocols, AutoVerifyPeer, no CA certificates,
// default options, and the backend's default ciphers and curves.
type Configuration struct {
	protocol               Protocol
	protocolSet            bool
	peerVerifyMode         PeerVerifyMode
	peerVerifyModeSet      bool
	peerVerifyDepth        int
	caCertificates         []Certificate
	caSet                  bool // CAs were set explicitly: no on-demand system roots
	localChain             []Certificate
	privateKey             Key
	ciphers                []Cipher
	curves                 []EllipticCurve
	options                SslOption
	optionsSet             bool
	sessionTicket          []byte
	ticketLifetimeHint     int
	ticketHintSet          bool
	dhParams               DiffieHellmanParameters
	dhSet                  bool
	pskIdentityHint        []byte
	allowedNextProtocols   []string
	nextNegotiatedProtocol string
	nextProtocolStatus     NextProtocolNegotiationStatus
	ocspStapling           bool
	interruptOnError       bool
	missingCertIsFatal     bool
	backendConfig          map[string]string
	backend                string // "" = the active backend (configuration_backend.go)
	ocspStaple             []byte // DER OCSP response a server staples
	sessionCipher          Cipher
	sessionProtocol        Protocol
	sessionProtocolSet     bool
	peerCertificateChain   []Certificate
	ephemeralServerKey     Key
	keyLogWriter           io.Writer       // SetKeyLogWriter (keylog.go)
	ticketKeys             TicketKeySource // SetSessionTicketKeys (ticketkeys.go)

	// ech is Encrypted Client Hello and the session facts beyond Qt's
	// (configuration_ech.go).
	ech echSettings

	// prep holds what a backend derived from this configuration once for
	// all the sockets sharing it (a Server's snapshot): set only on such
	// snapshots, dropped by Clone and by every internal edit.
	prep *configPrep
}

// configPrep is the backends' per-snapshot cache.
type configPrep struct {
	mu           sync.Mutex  // guards the fields below
	goServerMade bool        // goServer/goServerErr hold a result
	goServer     *tls.Config // the go backend's shared server configuration (backend_go.go)
	goServerErr  error
	goKeysGen    uint64 // the ticket keys' generation goServer was made with
}

var (
	defaultConfigMu sync.RWMutex
	defaultConfig   = newDefaultConfiguration() // guarded by defaultConfigMu; replaced, never modified in place
)

func newDefaultConfiguration() *Configuration {
	return &Configuration{}
}

// cloneSnapshot returns a deep copy of c to be shared and never modified.
func cloneSnapshot(c Configuration) *Configuration {
	c = c.Clone()
	c.prep = &configPrep{}
	return &c
}

// defaultSnapshot returns the process-wide default itself, for a new
// socket to share until it changes its configuration (copy on write: a
// snapshot is never modified).
func defaultSnapshot() *Configuration {
	defaultConfigMu.RLock()
	defer defaultConfigMu.RUnlock()
	return defaultConfig
}

// DefaultConfiguration returns a copy of the process-wide default
// configuration that new sockets copy at construction
// (QSslConfiguration::defaultConfiguration). Its CA list holds only what
// AddDefaultCaCertificate(s) added while the system's trust anchors are
// used on demand (see CaCertificates and AllowsOnDemandRoots).
func DefaultConfiguration() Configuration {
	defaultConfigMu.RLock()
	defer defaultConfigMu.RUnlock()
	return defaultConfig.Clone()
}

// SetDefaultConfiguration replaces the process-wide default. Sockets that
// exist already keep the configuration they copied.
func SetDefaultConfiguration(c Configuration) {
	c = c.Clone()
	defaultConfigMu.Lock()
	defaultConfig = &c
	defaultConfigMu.Unlock()
}

// AddDefaultCaCertificate adds cert to the default configuration's CA list
// (QSslSocket::addDefaultCaCertificate, Qt 5 and CopperSpice), unless it is
// there already. Sockets made afterwards trust it in addition to the
// system's trust anchors, which stay in use (loaded on demand), as in Qt
// (measured on Qt 6.4.2, docs/qt-measured-verification.md §4) and
// CopperSpice; only SetCaCertificates (or SetDefaultConfiguration with a CA
// list set) replaces them. Sockets that exist already are not affected.
func AddDefaultCaCertificate(cert Certificate) {
	defaultConfigMu.Lock()
	defer defaultConfigMu.Unlock()
	if slices.ContainsFunc(defaultConfig.caCertificates, cert.Equal) {
		return
	}
	c := *defaultConfig
	c.caCertificates = append(slices.Clone(c.caCertificates), cert)
	defaultConfig = &c
}

// AddDefaultCaCertificates adds certs to the default configuration's CA list
// (QSslSocket::addDefaultCaCertificates, Qt 5 and CopperSpice): like
// AddDefaultCaCertificate, the system's trust anchors stay in use for
// sockets made afterwards.
func AddDefaultCaCertificates(certs ...Certificate) {
	defaultConfigMu.Lock()
	defer defaultConfigMu.Unlock()
	c := *defaultConfig
	c.caCertificates = append(slices.Clone(c.caCertificates), certs...)
	defaultConfig = &c
}

// AddDefaultCaCertificatesFromPath loads certificates as CertificatesFromPath
// does and adds them with AddDefaultCaCertificates: CopperSpice's
// addDefaultCaCertificates(path, format, syntax), whose defaults are Pem and
// FixedString. It reports whether any certificate was added; nothing
// changes when none was loaded.
func AddDefaultCaCertificatesFromPath(path string, format EncodingFormat, syntax PatternSyntax) bool {
	certs, err := CertificatesFromPath(path, format, syntax)
	if err != nil || len(certs) == 0 {
		return false
	}
	AddDefaultCaCertificates(certs...)
	return true
}

// Clone returns a deep copy.
func (c Configuration) Clone() Configuration {
	c.prep = nil
	c.caCertificates = slices.Clone(c.caCertificates)
	c.localChain = slices.Clone(c.localChain)
	c.ciphers = slices.Clone(c.ciphers)
	c.curves = slices.Clone(c.curves)
	c.sessionTicket = slices.Clone(c.sessionTicket)
	c.pskIdentityHint = slices.Clone(c.pskIdentityHint)
	c.allowedNextProtocols = slices.Clone(c.allowedNextProtocols)
	c.ocspStaple = slices.Clone(c.ocspStaple)
	c.peerCertificateChain = slices.Clone(c.peerCertificateChain)
	c.ech = c.ech.clone()
	if c.backendConfig != nil {
		m := make(map[string]string, len(c.backendConfig))
		for k, v := range c.backendConfig {
			m[k] = v
		}
		c.backendConfig = m
	}
	return c
}

// Protocol returns the protocol (range) for the next handshake; SecureProtocols by default.
func (c Configuration) Protocol() Protocol {
	if !c.protocolSet {
		return SecureProtocols
	}
	return c.protocol
}

// SetProtocol sets the protocol for the next handshake. Values a backend
// cannot use (DTLS, UnknownProtocol) make the handshake fail with
// SslInvalidUserDataError before any connection attempt.
func (c *Configuration) SetProtocol(p Protocol) { c.protocol, c.protocolSet = p, true }

// PeerVerifyMode returns the verification mode; AutoVerifyPeer by default.
func (c Configuration) PeerVerifyMode() PeerVerifyMode {
	if !c.peerVerifyModeSet {
		return AutoVerifyPeer
	}
	return c.peerVerifyMode
}

// SetPeerVerifyMode sets the verification mode.
func (c *Configuration) SetPeerVerifyMode(m PeerVerifyMode) {
	c.peerVerifyMode, c.peerVerifyModeSet = m, true
}

// PeerVerifyDepth returns the maximum number of intermediates; 0 means no limit.
func (c Configuration) PeerVerifyDepth() int { return c.peerVerifyDepth }

// SetPeerVerifyDepth sets the maximum number of intermediates (0: no limit).
// Negative values are ignored, as in Qt.
func (c *Configuration) SetPeerVerifyDepth(d int) {
	if d >= 0 {
		c.peerVerifyDepth = d
	}
}

// CaCertificates returns the explicitly configured CA certificates. While
// none were set, verification uses the system's trust anchors on demand
// (Qt's on-demand root loading); AllowsOnDemandRoots reports that.
func (c Configuration) CaCertificates() []Certificate { return slices.Clone(c.caCertificates) }

// AllowsOnDemandRoots reports whether the system's trust anchors are used
// because no CA list was ever set.
func (c Configuration) AllowsOnDemandRoots() bool { return !c.caSet }

// SetCaCertificates replaces the CA list and stops on-demand use of the
// system's roots.
func (c *Configuration) SetCaCertificates(certs []Certificate) {
	c.caCertificates, c.caSet = slices.Clone(certs), true
}

// AddCaCertificate appends one CA certificate (and stops on-demand roots).
func (c *Configuration) AddCaCertificate(cert Certificate) { c.AddCaCertificates(cert) }

// AddCaCertificates appends CA certificates (and stops on-demand roots).
func (c *Configuration) AddCaCertificates(certs ...Certificate) {
	c.caCertificates, c.caSet = append(c.caCertificates, certs...), true
}

// AddCaCertificatesFromPath loads certificates as CertificatesFromPath does
// and appends them. It reports false (and changes nothing) when nothing was
// loaded, as Qt's addCaCertificates(path) does.
func (c *Configuration) AddCaCertificatesFromPath(path string, format EncodingFormat, syntax PatternSyntax) bool {
	certs, err := CertificatesFromPath(path, format, syntax)
	if err != nil || len(certs) == 0 {
		return false
	}
	c.AddCaCertificates(certs...)
	return true
}

// trustAnchors is the effective trust store: the CA list, plus the system
// roots while on-demand loading is allowed.
func (c Configuration) trustAnchors() []Certificate {
	if c.caSet {
		return c.caCertificates
	}
	return append(slices.Clone(c.caCertificates), SystemCaCertificates()...)
}

// LocalCertificate returns the first certificate of the local chain (the zero Certificate when none).
func (c Configuration) LocalCertificate() Certificate {
	if len(c.localChain) == 0 {
		return Certificate{}
	}
	return c.localChain[0]
}

// SetLocalCertificate replaces the local chain with [cert].
func (c *Configuration) SetLocalCertificate(cert Certificate) {
	if cert.IsNull() {
		c.localChain = nil
		return
	}
	c.localChain = []Certificate{cert}
}

// LocalCertificateChain returns the local chain, leaf first.
func (c Configuration) LocalCertificateChain() []Certificate { return slices.Clone(c.localChain) }

// SetLocalCertificateChain sets the local chain: the leaf first, then the
// intermediates to send with it.
func (c *Configuration) SetLocalCertificateChain(chain []Certificate) {
	c.localChain = slices.Clone(chain)
}

// PrivateKey returns the key of the local certificate.
func (c Configuration) PrivateKey() Key { return c.privateKey }

// SetPrivateKey sets the key of the local certificate.
func (c *Configuration) SetPrivateKey(k Key) { c.privateKey = k }

// Ciphers returns the configured ciphers; empty means the backend's defaults.
func (c Configuration) Ciphers() []Cipher { return slices.Clone(c.ciphers) }

// SetCiphers sets the ciphers to offer.
func (c *Configuration) SetCiphers(ciphers []Cipher) { c.ciphers = slices.Clone(ciphers) }

// SetCiphersString sets the ciphers from an OpenSSL-style "a:b:c" list;
// unknown names are dropped, as in Qt, and returned.
func (c *Configuration) SetCiphersString(list string) (unknown []string) {
	c.ciphers, unknown = ParseCiphers(list)
	return unknown
}

// EllipticCurves returns the configured curves; empty means the backend's choice.
func (c Configuration) EllipticCurves() []EllipticCurve { return slices.Clone(c.curves) }

// SetEllipticCurves sets the curves (key-exchange groups) to offer.
func (c *Configuration) SetEllipticCurves(curves []EllipticCurve) { c.curves = slices.Clone(curves) }

// SslOptions returns the option flags; DefaultSslOptions (0x55) unless set.
func (c Configuration) SslOptions() SslOption {
	if !c.optionsSet {
		return DefaultSslOptions
	}
	return c.options
}

// SetSslOption switches one option flag on or off.
func (c *Configuration) SetSslOption(o SslOption, on bool) {
	opts := c.SslOptions()
	if on {
		opts |= o
	} else {
		opts &^= o
	}
	c.options, c.optionsSet = opts, true
}

// TestSslOption reports whether the option is set.
func (c Configuration) TestSslOption(o SslOption) bool { return c.SslOptions()&o == o }

// SessionTicket returns the serialized session for resumption (empty unless
// SslOptionDisableSessionPersistence is off and a session was received).
func (c Configuration) SessionTicket() []byte { return slices.Clone(c.sessionTicket) }

// SetSessionTicket sets a session to resume (from an earlier SessionTicket).
func (c *Configuration) SetSessionTicket(t []byte) { c.sessionTicket = slices.Clone(t) }

// SessionTicketLifeTimeHint returns the server's ticket lifetime hint in
// seconds, or -1 when unknown (the go backend never knows it).
func (c Configuration) SessionTicketLifeTimeHint() int {
	if !c.ticketHintSet {
		return -1
	}
	return c.ticketLifetimeHint
}

// DiffieHellmanParameters returns the DH group a server offers with DHE
// suites; DefaultDiffieHellmanParameters unless set.
func (c Configuration) DiffieHellmanParameters() DiffieHellmanParameters {
	if !c.dhSet {
		return DefaultDiffieHellmanParameters()
	}
	return c.dhParams
}

// SetDiffieHellmanParameters sets the DH group (servers, DHE suites, openssl backend only).
func (c *Configuration) SetDiffieHellmanParameters(p DiffieHellmanParameters) {
	c.dhParams, c.dhSet = p, true
}

// PreSharedKeyIdentityHint returns the PSK identity hint a server sends.
func (c Configuration) PreSharedKeyIdentityHint() []byte { return slices.Clone(c.pskIdentityHint) }

// SetPreSharedKeyIdentityHint sets the PSK identity hint a server sends.
func (c *Configuration) SetPreSharedKeyIdentityHint(h []byte) { c.pskIdentityHint = slices.Clone(h) }

// AllowedNextProtocols returns the ALPN protocols offered (client) or accepted (server).
func (c Configuration) AllowedNextProtocols() []string { return slices.Clone(c.allowedNextProtocols) }

// SetAllowedNextProtocols sets the ALPN list; empty entries and entries over
// 255 bytes are dropped, as in Qt.
func (c *Configuration) SetAllowedNextProtocols(protos []string) {
	c.allowedNextProtocols = nil
	for _, p := range protos {
		if p != "" && len(p) <= 255 {
			c.allowedNextProtocols = append(c.allowedNextProtocols, p)
		}
	}
}

// NextNegotiatedProtocol returns the protocol ALPN chose for the session.
func (c Configuration) NextNegotiatedProtocol() string { return c.nextNegotiatedProtocol }

// NextProtocolNegotiationStatus returns the outcome of ALPN for the session.
func (c Configuration) NextProtocolNegotiationStatus() NextProtocolNegotiationStatus {
	return c.nextProtocolStatus
}

// OcspStaplingEnabled reports whether a client asks for a stapled OCSP response.
func (c Configuration) OcspStaplingEnabled() bool { return c.ocspStapling }

// SetOcspStaplingEnabled makes a client ask for, and check, a stapled OCSP response.
func (c *Configuration) SetOcspStaplingEnabled(on bool) { c.ocspStapling = on }

// HandshakeMustInterruptOnError reports whether each verification error
// pauses the handshake (handshakeInterruptedOnError).
func (c Configuration) HandshakeMustInterruptOnError() bool { return c.interruptOnError }

// SetHandshakeMustInterruptOnError makes each verification error pause the
// handshake until ContinueInterruptedHandshake, or abort it.
func (c *Configuration) SetHandshakeMustInterruptOnError(on bool) { c.interruptOnError = on }

// MissingCertificateIsFatal reports whether a missing peer certificate
// aborts the handshake with an alert instead of an ignorable NoPeerCertificate.
func (c Configuration) MissingCertificateIsFatal() bool { return c.missingCertIsFatal }

// SetMissingCertificateIsFatal sets MissingCertificateIsFatal.
func (c *Configuration) SetMissingCertificateIsFatal(on bool) { c.missingCertIsFatal = on }

// BackendConfiguration returns backend-specific options (OpenSSL SSL_CONF
// commands for the openssl backend).
func (c Configuration) BackendConfiguration() map[string]string {
	out := make(map[string]string, len(c.backendConfig))
	for k, v := range c.backendConfig {
		out[k] = v
	}
	return out
}

// SetBackendConfigurationOption sets one backend-specific option.
func (c *Configuration) SetBackendConfigurationOption(name, value string) {
	if c.backendConfig == nil {
		c.backendConfig = map[string]string{}
	}
	c.backendConfig[name] = value
}

// SetBackendConfiguration replaces all backend-specific options.
func (c *Configuration) SetBackendConfiguration(m map[string]string) {
	c.backendConfig = nil
	for k, v := range m {
		c.SetBackendConfigurationOption(k, v)
	}
}

// OcspStaple returns the DER OCSP response a server staples.
func (c Configuration) OcspStaple() []byte { return slices.Clone(c.ocspStaple) }

// SetOcspStaple sets the DER OCSP response a server staples (Qt's
// undocumented "Qt-OCSP-response" backend option, made a real setting).
func (c *Configuration) SetOcspStaple(der []byte) { c.ocspStaple = slices.Clone(der) }

// SessionCipher returns the negotiated cipher (on a socket's configuration).
func (c Configuration) SessionCipher() Cipher { return c.sessionCipher }

// SessionProtocol returns the negotiated protocol, UnknownProtocol before a handshake.
func (c Configuration) SessionProtocol() Protocol {
	if !c.sessionProtocolSet {
		return UnknownProtocol
	}
	return c.sessionProtocol
}

// PeerCertificate returns the peer's leaf certificate (on a socket's configuration).
func (c Configuration) PeerCertificate() Certificate {
	if len(c.peerCertificateChain) == 0 {
		return Certificate{}
	}
	return c.peerCertificateChain[0]
}

// PeerCertificateChain returns the chain the peer presented, leaf first.
func (c Configuration) PeerCertificateChain() []Certificate {
	return slices.Clone(c.peerCertificateChain)
}

// EphemeralServerKey returns the server's ephemeral key-exchange key, on a
// client, when the backend exposes it (the go backend does not).
func (c Configuration) EphemeralServerKey() Key { return c.ephemeralServerKey }
