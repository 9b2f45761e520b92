package ssl

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
)

// Backend is a TLS engine: Qt's QTlsBackend. The "go" backend (crypto/tls)
// is always registered; the "openssl" backend registers itself when its
// package is imported and libssl can be loaded. Backends know nothing of
// sockets, events or Qt's error policy: they run a handshake over a
// transport and call back through SessionHooks for every decision.
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
	// NewSession prepares a TLS endpoint over transport. It fails with an
	// error wrapping ErrInvalidUserData when the parameters cannot be used.
	NewSession(transport net.Conn, params SessionParams) (Session, error)
}

// SessionParams is what a backend needs for one session.
type SessionParams struct {
	Server bool
	// Config is the socket's configuration.
	Config Configuration
	// ServerName is the SNI name a client sends ("" for none).
	ServerName string
	// Hooks receives the backend's callbacks; it must not be nil.
	Hooks SessionHooks
}

// SessionHooks are the socket layer's callbacks. Backends call them
// synchronously, on the goroutine that runs the handshake or the read.
type SessionHooks interface {
	// VerifyPeer decides on the peer's certificate chain (leaf first, empty
	// when the peer sent none) and stapled OCSP response. It may block (for
	// the application's decision); a non-nil error aborts the handshake.
	VerifyPeer(chain []Certificate, ocspResponse []byte) error
	// PreSharedKey asks for PSK credentials; an error, or an empty key,
	// fails the handshake.
	PreSharedKey(auth *PreSharedKeyAuthenticator) error
	// Alert reports a TLS alert the engine sent or received.
	Alert(sent bool, level AlertLevel, typ AlertType, description string)
	// NewSessionTicket delivers a resumable session (client side).
	NewSessionTicket(ticket []byte, lifetimeHint int)
}

// Session is one TLS endpoint created by a Backend.
type Session interface {
	// Handshake runs the handshake; ctx cancels it.
	Handshake(ctx context.Context) error
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// CloseWrite sends close_notify.
	CloseWrite() error
	// State describes the negotiated session.
	State() SessionState
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
}

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
