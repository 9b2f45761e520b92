package ssl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
)

// Backend is a TLS engine: Qt's QTlsBackend. The "go" backend (crypto/tls)
// is always registered; the "openssl" backend registers itself when its
// package (ssl/openssl) is imported and libssl can be loaded. Backends know
// nothing of sockets, events or Qt's error policy: they run TLS over bytes
// handed to them and call back through SessionHooks for every decision.
//
// The contract is sans-IO (docs/architecture.md, "The backend contract"):
// NewEngine returns an EngineCore that consumes received ciphertext and
// produces ciphertext to send, and reports ErrWantRead / ErrWantWrite
// instead of blocking. A backend may also implement StreamBackend, a fast
// path over a net.Conn, used by Socket when present; nothing a Socket needs
// may exist only there.
type Backend interface {
	// Name is the name AvailableBackends lists ("go", "openssl").
	Name() string
	SupportedProtocols() []Protocol
	SupportedFeatures() []SupportedFeature
	ImplementedClasses() []ImplementedClass
	SupportedCiphers() []Cipher
	SupportedEllipticCurves() []EllipticCurve
	// LibraryVersionNumber and LibraryVersionString describe the engine
	// running now; the Build variants the one compiled against.
	LibraryVersionNumber() int64
	LibraryVersionString() string
	LibraryBuildVersionNumber() int64
	LibraryBuildVersionString() string
	// NewEngine prepares the sans-IO core of one TLS endpoint. It fails
	// with an error wrapping ErrInvalidUserData when the parameters cannot
	// be used, or ErrUnsupported for a feature the backend lacks.
	NewEngine(params SessionParams) (EngineCore, error)
}

// StreamBackend is a Backend with a faster path over a connected
// transport. Socket uses it when the backend has one; Engine never does.
type StreamBackend interface {
	Backend
	// NewStream prepares a TLS endpoint over transport. params.Received
	// holds ciphertext that arrived before the stream existed (STARTTLS):
	// the stream consumes it before reading transport.
	NewStream(transport net.Conn, params SessionParams) (Stream, error)
}

// SessionParams is what a backend needs for one session.
type SessionParams struct {
	Server bool
	// Config is the connection's configuration.
	Config Configuration
	// ServerName is the SNI name a client sends ("" for none).
	ServerName string
	// Hooks receives the backend's callbacks; it must not be nil.
	Hooks SessionHooks
	// Received is ciphertext already read from the transport (StreamBackend only).
	Received []byte
	// WantsPreSharedKey: the application handles
	// preSharedKeyAuthenticationRequired, so a backend offers (client) or
	// looks up (server) TLS 1.3 external PSKs; without it no ordinary TLS
	// 1.3 connection asks for a key.
	WantsPreSharedKey bool
	// VerificationCanWait: this server's verification never refuses and
	// nobody listens to its events, so it may run after the handshake
	// (the go backend then shares one crypto/tls configuration).
	VerificationCanWait bool
	// DeferDecisions: the owner runs verification decisions itself, with
	// no lock held. VerifyPeer may then return ErrWantRetryVerify, and a
	// Stream's Handshake must return it too, keeping the handshake where
	// it is until the owner calls Handshake again (an EngineCore always
	// does so). A stream whose handshake cannot stop there keeps it going
	// on another goroutine meanwhile (the go backend's tls.Conn).
	DeferDecisions bool
}

// SessionHooks are the connection's callbacks (the shared endpoint of
// Socket and Engine implements them). Backends call them synchronously,
// from inside EngineCore.Handshake / Read (or Stream.Handshake / Read),
// one at a time, never while holding a lock of their own that another
// method of the same core would need.
type SessionHooks interface {
	// VerifyPeer decides on the peer's certificate chain (leaf first, empty
	// when the peer sent none) and stapled OCSP response. nil continues the
	// handshake; ErrWantRetryVerify pauses it (the application has not
	// decided yet: the backend returns ErrWantRetryVerify from Handshake and
	// calls VerifyPeer again when Handshake is called again); any other
	// error aborts it, with a bad_certificate alert (or the alert the
	// error's AlertType method names).
	VerifyPeer(chain []Certificate, ocspResponse []byte) error
	// PreSharedKey asks for PSK credentials (client: auth carries the
	// server's identity hint; server: the client's identity). An error
	// fails the handshake — except ErrNoPreSharedKey (no key was set) when
	// the backend asked for a TLS 1.3 external PSK: then the handshake
	// goes on with certificates, as if nothing had been asked.
	PreSharedKey(auth *PreSharedKeyAuthenticator) error
	// Alert reports a TLS alert the engine sent or received.
	Alert(sent bool, level AlertLevel, typ AlertType, description string)
	// NewSessionTicket delivers a resumable session (client side), in the
	// backend's own serialization, with the server's lifetime hint in
	// seconds (-1 when the backend cannot tell).
	NewSessionTicket(ticket []byte, lifetimeHint int)
}

// Alert may also be called from Write and Shutdown (a close_notify sent).

// EngineCore is one sans-IO TLS endpoint: OpenSSL's SSL object over a
// memory BIO pair. The owner moves bytes: Feed what arrives from the peer,
// TakeOutput what must be sent, and call Handshake / Read / Write, which
// never block on I/O.
//
// Concurrency: an EngineCore is not safe for concurrent use. Its owner
// makes one call at a time (Socket and Engine hold a mutex around every
// call); hooks run synchronously inside Handshake and Read and must not
// call back into the same core.
type EngineCore interface {
	// Feed hands ciphertext received from the peer to the engine, which
	// keeps a copy. It never blocks and never fails: bad records surface
	// from the next Handshake or Read.
	Feed(p []byte)
	// FeedEOF records that the transport ended: once buffered input is
	// used up, Handshake and Read fail (Read with ErrUncleanShutdown when
	// no close_notify came first).
	FeedEOF()
	// BufferedInput is ciphertext fed but not yet processed
	// (EncryptedBytesAvailable).
	BufferedInput() int
	// PendingOutput is ciphertext waiting to be taken (EncryptedBytesToWrite).
	PendingOutput() int
	// TakeOutput moves up to len(p) bytes of pending ciphertext into p.
	TakeOutput(p []byte) int
	// Handshake advances the handshake: nil once it completed; ErrWantRead
	// when it needs more input (send pending output first); ErrWantWrite
	// when pending output must be taken before it can go on;
	// ErrWantRetryVerify while VerifyPeer keeps the decision pending; any
	// other error is fatal (and latched).
	Handshake() error
	// Read decrypts application data into p: ErrWantRead when a whole
	// record is not there yet, io.EOF after the peer's close_notify,
	// ErrUncleanShutdown after FeedEOF without one. Post-handshake messages
	// (tickets, key updates) are handled here and may produce output.
	Read(p []byte) (int, error)
	// Write encrypts p. It returns n < len(p) with ErrWantWrite when the
	// pending output reached its bound (MaxPendingOutput): take output and
	// write the rest.
	Write(p []byte) (int, error)
	// Shutdown queues close_notify (SSL_shutdown). After a fatal alert was
	// sent or received it queues nothing and returns the latched error.
	Shutdown() error
	// State describes the negotiated session.
	State() SessionState
	// Close releases the engine; every other method fails afterwards.
	Close() error
}

// MaxPendingOutput bounds an engine's pending output before Write reports
// ErrWantWrite: room for a 16 KiB write's records and a handshake flight.
// A buffer of this size always drains an engine in one TakeOutput.
const MaxPendingOutput = 64 << 10

// Stream is a TLS endpoint over a connected transport: a StreamBackend's
// fast path, and what Socket drives (for a backend without one, Socket
// pumps an EngineCore over the connection instead).
//
// Concurrency: one Handshake, then Reads (which may overlap each other:
// the stream serialises them) beside at most one Write (or Flush, or
// CloseWrite) at a time.
// EncryptedBytesAvailable, EncryptedBytesToWrite and
// TakeEncryptedBytesWritten may be called from any goroutine at any time.
type Stream interface {
	// Handshake runs the handshake; ctx cancels it. With
	// SessionParams.DeferDecisions it returns ErrWantRetryVerify when
	// VerifyPeer did, and goes on when called again.
	Handshake(ctx context.Context) error
	// Read is io.EOF after the peer's close_notify and ErrUncleanShutdown
	// when the transport ended without one.
	Read(p []byte) (int, error)
	// Write encrypts and sends p. When the write deadline passes midway,
	// the data is still committed (it goes out with the next Write or
	// Flush): Write returns len(p) and an error matching os.ErrDeadlineExceeded.
	Write(p []byte) (int, error)
	// Flush sends what a timed-out Write left behind; it reports whether
	// there was anything.
	Flush() (bool, error)
	// CloseWrite sends close_notify.
	CloseWrite() error
	// State describes the negotiated session.
	State() SessionState
	// EncryptedBytesAvailable is ciphertext received and not yet decrypted,
	// as far as the stream can see.
	EncryptedBytesAvailable() int64
	// EncryptedBytesToWrite is ciphertext not yet handed to the transport.
	EncryptedBytesToWrite() int64
	// TakeEncryptedBytesWritten returns the ciphertext bytes handed to the
	// transport since the last call (for encryptedBytesWritten, which the
	// caller emits outside every lock).
	TakeEncryptedBytesWritten() int64
	// Close releases the stream's resources (not the transport, which
	// stays the caller's). It may be called while another call is under
	// way; that call then fails or returns soon.
	Close() error
}

// SessionState describes a negotiated session.
type SessionState struct {
	Version      uint16
	Cipher       Cipher
	PeerChain    []Certificate
	ALPN         string
	ALPNStatus   NextProtocolNegotiationStatus
	OCSPResponse []byte
	Resumed      bool
	EphemeralKey Key
	// ServerName is the SNI name (the one the client sent, on a server).
	// With Encrypted Client Hello it is the inner, encrypted name.
	ServerName string
	// TicketKeyID identifies the session-ticket key of a resumed session
	// (TicketKeyID of the key's name): on a server, the key of its set
	// that opened the ticket; on a client, the key named at the start of
	// the ticket it offered. "" when not resumed or not known.
	TicketKeyID string
	// KeyExchangeGroup is the negotiated key-exchange group (0: none, or
	// the backend cannot tell).
	KeyExchangeGroup tls.CurveID
	// ECHAccepted: the handshake used Encrypted Client Hello;
	// OuterServerName is then the clear outer ClientHello's name.
	ECHAccepted     bool
	OuterServerName string
}

// ErrWantRead is returned (errors.Is) by Engine and EngineCore Handshake,
// Read and Write when they need more input from the peer: SSL_ERROR_WANT_READ.
var ErrWantRead = errors.New("ssl: want read")

// ErrWantWrite is returned (errors.Is) when pending output must be sent
// before the engine can go on: SSL_ERROR_WANT_WRITE.
var ErrWantWrite = errors.New("ssl: want write")

// ErrWantRetryVerify is returned by a handshake paused on certificate
// errors (PauseOnSslErrors) until the application decides and calls
// Resume: SSL_ERROR_WANT_RETRY_VERIFY.
var ErrWantRetryVerify = errors.New("ssl: handshake paused for the verification decision")

// ErrInvalidUserData matches, via errors.Is, configuration problems that
// Qt reports as SslInvalidUserDataError (unsupported protocol, a
// certificate without its key, an unusable cipher list, …).
var ErrInvalidUserData = errors.New("ssl: invalid configuration")

// ErrUnsupported matches, via errors.Is, a request for a feature the
// active backend does not have (PSK on the go backend, …).
var ErrUnsupported = errors.New("ssl: not supported by this backend")

var registry struct {
	mu       sync.Mutex
	backends []Backend
	active   Backend
	inUse    bool
}

// RegisterBackend makes a backend available. Backends register from their
// package's init; registering a name twice replaces the earlier one.
func RegisterBackend(b Backend) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for i, x := range registry.backends {
		if x.Name() == b.Name() {
			registry.backends[i] = b
			return
		}
	}
	registry.backends = append(registry.backends, b)
}

// AvailableBackends lists the registered backends' names, "openssl" first
// when present (Qt's preference), then "go".
func AvailableBackends() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	var names []string
	for _, b := range registry.backends {
		names = append(names, b.Name())
	}
	slices.SortStableFunc(names, func(a, b string) int { return backendRank(a) - backendRank(b) })
	return names
}

func backendRank(name string) int {
	switch name {
	case "openssl":
		return 0
	case "go":
		return 1
	}
	return 2
}

// ActiveBackend returns the name of the backend new sockets use: the one
// SetActiveBackend chose, else "go" — the pure-Go engine is the default
// even when "openssl" is available, so that behaviour does not change
// with what happens to be installed.
func ActiveBackend() string { return activeBackend().Name() }

func activeBackend() Backend {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.active == nil {
		registry.active = lookupBackendLocked("go")
	}
	return registry.active
}

// useBackend marks the active backend as in use and returns it.
func useBackend() Backend {
	b := activeBackend()
	registry.mu.Lock()
	registry.inUse = true
	registry.mu.Unlock()
	return b
}

// SetActiveBackend chooses the backend new sockets use. As in Qt it fails
// for unknown names and, once a socket has used a backend, it only reports
// whether name is the active one.
func SetActiveBackend(name string) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	b := lookupBackendLocked(name)
	if b == nil {
		return false
	}
	if registry.inUse {
		return registry.active != nil && registry.active.Name() == name
	}
	registry.active = b
	return true
}

func lookupBackendLocked(name string) Backend {
	for _, b := range registry.backends {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

// backendByName returns the named backend, the active one for "", or nil.
func backendByName(name string) Backend {
	if name == "" {
		return activeBackend()
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return lookupBackendLocked(name)
}

// SupportedProtocols lists the protocols the named backend ("" for the
// active one) supports; an unknown name gives an empty list.
func SupportedProtocols(backend string) []Protocol {
	if b := backendByName(backend); b != nil {
		return b.SupportedProtocols()
	}
	return nil
}

// SupportedFeatures lists the optional features of the named backend.
func SupportedFeatures(backend string) []SupportedFeature {
	if b := backendByName(backend); b != nil {
		return b.SupportedFeatures()
	}
	return nil
}

// ImplementedClasses lists the classes the named backend implements.
func ImplementedClasses(backend string) []ImplementedClass {
	if b := backendByName(backend); b != nil {
		return b.ImplementedClasses()
	}
	return nil
}

// IsProtocolSupported reports whether the named backend supports p.
func IsProtocolSupported(p Protocol, backend string) bool {
	return slices.Contains(SupportedProtocols(backend), p)
}

// IsFeatureSupported reports whether the named backend has feature f.
func IsFeatureSupported(f SupportedFeature, backend string) bool {
	return slices.Contains(SupportedFeatures(backend), f)
}

// IsClassImplemented reports whether the named backend implements class c.
func IsClassImplemented(c ImplementedClass, backend string) bool {
	return slices.Contains(ImplementedClasses(backend), c)
}

// SupportsSsl reports whether TLS is available (always true: the go backend is built in).
func SupportsSsl() bool { return activeBackend() != nil }

// SslLibraryVersionNumber is the active backend's LibraryVersionNumber.
func SslLibraryVersionNumber() int64 { return activeBackend().LibraryVersionNumber() }

// SslLibraryVersionString is the active backend's LibraryVersionString.
func SslLibraryVersionString() string { return activeBackend().LibraryVersionString() }

// SslLibraryBuildVersionNumber is the active backend's LibraryBuildVersionNumber.
func SslLibraryBuildVersionNumber() int64 { return activeBackend().LibraryBuildVersionNumber() }

// SslLibraryBuildVersionString is the active backend's LibraryBuildVersionString.
func SslLibraryBuildVersionString() string { return activeBackend().LibraryBuildVersionString() }

// ErrUncleanShutdown is returned by Read (of a Socket, an Engine, a Stream
// or an EngineCore) when the peer closed the TCP connection without a TLS
// close_notify: the data may have been truncated. It matches
// io.ErrUnexpectedEOF.
var ErrUncleanShutdown = fmt.Errorf("ssl: connection closed without close_notify: %w", io.ErrUnexpectedEOF)

// connectionStater is what a Stream or EngineCore may also offer: its
// session described as crypto/tls describes it (the go backend's, with
// ExportKeyingMaterial). Socket.ConnectionState uses it when present, and
// builds the description from SessionState otherwise; a third-party
// backend's types satisfy it by having the method.
type connectionStater interface {
	ConnectionState() tls.ConnectionState
}
