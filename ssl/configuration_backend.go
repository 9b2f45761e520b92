package ssl

import "fmt"

// Backend returns the name of the TLS backend connections with this
// configuration use; "" means the process-wide active backend
// (ActiveBackend), Qt's only choice.
func (c Configuration) Backend() string { return c.backend }

// SetBackend chooses the TLS backend ("go", "openssl", or "" for the
// active one) for connections with this configuration. Unlike Qt's
// process-wide choice this lets one program use several backends. An
// unknown name fails the handshake with SslInvalidUserDataError.
func (c *Configuration) SetBackend(name string) { c.backend = name }

// backendFor returns the backend a configuration selects and marks the
// active backend as in use when it is the one chosen.
func backendFor(name string) (Backend, error) {
	if name == "" {
		return useBackend(), nil
	}
	if b := backendByName(name); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("%w: no TLS backend named %q (available: %v)", ErrInvalidUserData, name, AvailableBackends())
}
