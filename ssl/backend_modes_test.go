package ssl

import "testing"

// backendMode is one way a connection can run: a registered backend, and
// for the go backend also its sans-IO engine pumped by the socket (the
// path the openssl backend takes), so that both paths see every test.
type backendMode struct {
	name    string
	backend string
	engine  bool
}

// backendModes lists every available backend (AvailableBackends: the
// openssl backend too when its package is linked into the test binary,
// see backends_import_test.go) plus the go backend's engine path.
func backendModes() []backendMode {
	var modes []backendMode
	for _, b := range AvailableBackends() {
		modes = append(modes, backendMode{name: b, backend: b})
		if b == "go" {
			modes = append(modes, backendMode{name: "go-engine", backend: b, engine: true})
		}
	}
	return modes
}

// apply makes c use the mode.
func (m backendMode) apply(c Configuration) Configuration {
	if m.backend == "" {
		return c // the zero mode: the active backend
	}
	c.SetBackend(m.backend)
	if m.engine {
		c.SetBackendConfigurationOption(ForceEngineOption, "1")
	}
	return c
}

// runModes runs fn once per backend mode, as net/http's run(t, fn, modes).
func runModes(t *testing.T, fn func(t *testing.T, m backendMode)) {
	t.Helper()
	for _, m := range backendModes() {
		t.Run(m.name, func(t *testing.T) { fn(t, m) })
	}
}

// rejectionAlert is the alert a client sends when it refuses an untrusted
// server certificate: Qt's unknown_ca where the backend can choose
// (VerificationError.AlertType), crypto/tls's fixed bad_certificate on go.
func rejectionAlert(backend string) AlertType {
	if backend == "openssl" {
		return AlertUnknownCa
	}
	return AlertBadCertificate
}
