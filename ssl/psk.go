package ssl

import (
	"bytes"
	"errors"
)

// ErrNoPreSharedKey is what SessionHooks.PreSharedKey returns when the
// application's preSharedKeyAuthenticationRequired handlers set no key.
// For a TLS 1.2 PSK cipher suite it fails the handshake; for a TLS 1.3
// external PSK, which Qt never asks for, a backend leaves the handshake to
// certificates.
var ErrNoPreSharedKey = errors.New("ssl: no pre-shared key provided")

// PreSharedKeyAuthenticator is QSslPreSharedKeyAuthenticator: the PSK
// credentials a preSharedKeyAuthenticationRequired handler fills in. It is
// valid only during the handler. A PSK client sets
// SetPeerVerifyMode(VerifyNone) (a PSK server has no certificate) and runs
// on a backend with FeaturePsk; see OnPreSharedKeyAuthenticationRequired.
type PreSharedKeyAuthenticator struct {
	identityHint      []byte
	identity          []byte
	preSharedKey      []byte
	maxIdentityLength int
	maxKeyLength      int
}

// NewPreSharedKeyAuthenticator is for backends: it carries the server's hint
// (client side) or the client's identity (server side) and the limits.
func NewPreSharedKeyAuthenticator(identityHint, identity []byte, maxIdentityLength, maxKeyLength int) *PreSharedKeyAuthenticator {
	return &PreSharedKeyAuthenticator{identityHint: bytes.Clone(identityHint), identity: bytes.Clone(identity),
		maxIdentityLength: maxIdentityLength, maxKeyLength: maxKeyLength}
}

// IdentityHint is the hint the server sent (client side) or the server's own hint (server side).
func (a *PreSharedKeyAuthenticator) IdentityHint() []byte { return bytes.Clone(a.identityHint) }

// Identity returns the identity: the client fills it; on a server it is what the client sent.
func (a *PreSharedKeyAuthenticator) Identity() []byte { return bytes.Clone(a.identity) }

// SetIdentity sets the identity (client side), truncated to MaximumIdentityLength.
func (a *PreSharedKeyAuthenticator) SetIdentity(id []byte) {
	if a.maxIdentityLength > 0 && len(id) > a.maxIdentityLength {
		id = id[:a.maxIdentityLength]
	}
	a.identity = bytes.Clone(id)
}

// MaximumIdentityLength is the library's limit on the identity (0 on servers).
func (a *PreSharedKeyAuthenticator) MaximumIdentityLength() int { return a.maxIdentityLength }

// PreSharedKey returns the key set so far.
func (a *PreSharedKeyAuthenticator) PreSharedKey() []byte { return bytes.Clone(a.preSharedKey) }

// SetPreSharedKey sets the key, truncated to MaximumPreSharedKeyLength. An
// empty key fails the handshake.
func (a *PreSharedKeyAuthenticator) SetPreSharedKey(k []byte) {
	if a.maxKeyLength > 0 && len(k) > a.maxKeyLength {
		k = k[:a.maxKeyLength]
	}
	a.preSharedKey = bytes.Clone(k)
}

// MaximumPreSharedKeyLength is the library's limit on the key.
func (a *PreSharedKeyAuthenticator) MaximumPreSharedKeyLength() int { return a.maxKeyLength }

// Equal compares all fields, as Qt does.
func (a *PreSharedKeyAuthenticator) Equal(o *PreSharedKeyAuthenticator) bool {
	return bytes.Equal(a.identityHint, o.identityHint) && bytes.Equal(a.identity, o.identity) &&
		bytes.Equal(a.preSharedKey, o.preSharedKey) && a.maxIdentityLength == o.maxIdentityLength &&
		a.maxKeyLength == o.maxKeyLength
}
