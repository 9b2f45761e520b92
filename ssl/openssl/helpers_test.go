//go:build cgo && linux

package openssl

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// testPKI is a root and a server and client identity under it.
type testPKI struct {
	root, server, client *pki.Cert
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "OpenSSL Backend Test Root", IsCA: true})
	return &testPKI{
		root:   root,
		server: root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}),
		client: root.MustIssue(pki.Spec{CommonName: "client"}),
	}
}

func certOf(c *pki.Cert) ssl.Certificate { return ssl.NewCertificate(c.Cert) }

func (p *testPKI) serverConfig(identity *pki.Cert) ssl.Configuration {
	var c ssl.Configuration
	c.SetLocalCertificate(certOf(identity))
	c.SetPrivateKey(ssl.NewKey(identity.Key))
	c.SetCaCertificates([]ssl.Certificate{certOf(p.root)})
	return c
}

func (p *testPKI) clientConfig() ssl.Configuration {
	var c ssl.Configuration
	c.SetCaCertificates([]ssl.Certificate{certOf(p.root)})
	return c
}

// alert is one Alert hook call.
type alert struct {
	sent  bool
	level ssl.AlertLevel
	typ   ssl.AlertType
	desc  string
}

func (a alert) String() string {
	dir := "received"
	if a.sent {
		dir = "sent"
	}
	return fmt.Sprintf("%s(%d,%d,%q)", dir, a.level, a.typ, a.desc)
}

// testHooks implements ssl.SessionHooks for tests: by default it runs the
// verifier as a client (or accepts anything as a server) and records calls.
type testHooks struct {
	mu sync.Mutex
	// verify decides; nil accepts every chain.
	verify func(chain []ssl.Certificate, ocsp []byte) error
	// psk fills the authenticator; nil gives no key.
	psk func(a *ssl.PreSharedKeyAuthenticator) error
	// psk13 is SessionParams.WantsPreSharedKey for engines made with these hooks.
	psk13   bool
	alerts  []alert
	tickets [][]byte
	hints   []int
	// verifyCalls records what VerifyPeer saw.
	verifyCalls []verifyCall
	pskCalls    []pskCall
}

type verifyCall struct {
	chain []ssl.Certificate
	ocsp  []byte
}

type pskCall struct {
	hint, identity []byte
	maxID, maxKey  int
	gotID, gotKey  []byte
	returnedErr    error
}

func (h *testHooks) VerifyPeer(chain []ssl.Certificate, ocsp []byte) error {
	h.mu.Lock()
	h.verifyCalls = append(h.verifyCalls, verifyCall{chain, ocsp})
	f := h.verify
	h.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(chain, ocsp)
}

func (h *testHooks) PreSharedKey(a *ssl.PreSharedKeyAuthenticator) error {
	call := pskCall{hint: a.IdentityHint(), identity: a.Identity(), maxID: a.MaximumIdentityLength(), maxKey: a.MaximumPreSharedKeyLength()}
	var err error
	if h.psk != nil {
		err = h.psk(a)
	}
	call.gotID, call.gotKey, call.returnedErr = a.Identity(), a.PreSharedKey(), err
	h.mu.Lock()
	h.pskCalls = append(h.pskCalls, call)
	h.mu.Unlock()
	return err
}

func (h *testHooks) Alert(sent bool, level ssl.AlertLevel, typ ssl.AlertType, desc string) {
	h.mu.Lock()
	h.alerts = append(h.alerts, alert{sent, level, typ, desc})
	h.mu.Unlock()
}

func (h *testHooks) NewSessionTicket(ticket []byte, hint int) {
	h.mu.Lock()
	h.tickets = append(h.tickets, ticket)
	h.hints = append(h.hints, hint)
	h.mu.Unlock()
}

func (h *testHooks) alertList() []alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]alert(nil), h.alerts...)
}

func (h *testHooks) hasAlert(sent bool, level ssl.AlertLevel, typ ssl.AlertType) bool {
	for _, a := range h.alertList() {
		if a.sent == sent && a.level == level && a.typ == typ {
			return true
		}
	}
	return false
}

// verifyAs runs package ssl's verifier as a client of host would.
func verifyAs(roots []ssl.Certificate, host string, purpose ssl.Purpose) func([]ssl.Certificate, []byte) error {
	return func(chain []ssl.Certificate, _ []byte) error {
		if len(chain) == 0 {
			return &ssl.VerificationError{Errors: []ssl.Error{ssl.NewError(ssl.NoPeerCertificate, ssl.Certificate{})}}
		}
		errs := ssl.VerifyChain(chain, ssl.VerifyOptions{Roots: roots, HostName: host, Purpose: purpose})
		if len(errs) > 0 {
			return &ssl.VerificationError{Errors: errs}
		}
		return nil
	}
}

// end is one side of an in-memory pair.
type end struct {
	e     *engine
	hooks *testHooks
}

func mustEngine(t testing.TB, server bool, cfg ssl.Configuration, hooks *testHooks, serverName string) *engine {
	t.Helper()
	e, err := newEngine(ssl.SessionParams{Server: server, Config: cfg, Hooks: hooks, ServerName: serverName, WantsPreSharedKey: hooks.psk13})
	if err != nil {
		t.Fatalf("newEngine(server=%v): %v", server, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// pair makes a client and a server engine; the client's hooks verify
// against the test root for "localhost".
func (p *testPKI) pair(t testing.TB, ccfg, scfg ssl.Configuration) (c, s end) {
	t.Helper()
	c.hooks = &testHooks{verify: verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)}
	s.hooks = &testHooks{}
	c.e = mustEngine(t, false, ccfg, c.hooks, "localhost")
	s.e = mustEngine(t, true, scfg, s.hooks, "")
	return c, s
}

// move carries at most chunk bytes (all when chunk <= 0) of a's output
// to b; it reports whether anything moved.
func move(a, b *engine, chunk int) bool {
	n := a.PendingOutput()
	if n == 0 {
		return false
	}
	if chunk > 0 {
		n = min(n, chunk)
	}
	buf := make([]byte, n)
	got := a.TakeOutput(buf)
	b.Feed(buf[:got])
	return got > 0
}

// handshake runs both handshakes to completion, moving chunk bytes at a
// time. It returns the first fatal error of each side.
func handshake(c, s *engine, chunk int) (cerr, serr error) {
	cdone, sdone := false, false
	for range 100000 {
		progress := false
		if !cdone && cerr == nil {
			switch err := c.Handshake(); {
			case err == nil:
				cdone, progress = true, true
			case errors.Is(err, ssl.ErrWantRead), errors.Is(err, ssl.ErrWantRetryVerify):
			default:
				cerr = err
			}
		}
		if !sdone && serr == nil {
			switch err := s.Handshake(); {
			case err == nil:
				sdone, progress = true, true
			case errors.Is(err, ssl.ErrWantRead), errors.Is(err, ssl.ErrWantRetryVerify):
			default:
				serr = err
			}
		}
		if move(c, s, chunk) {
			progress = true
		}
		if move(s, c, chunk) {
			progress = true
		}
		if (cdone || cerr != nil) && (sdone || serr != nil) && c.PendingOutput() == 0 && s.PendingOutput() == 0 {
			return cerr, serr
		}
		if !progress {
			if cerr == nil && !cdone {
				cerr = errors.New("stalled")
			}
			if serr == nil && !sdone {
				serr = errors.New("stalled")
			}
			return cerr, serr
		}
	}
	return errors.New("too many steps"), errors.New("too many steps")
}

// mustHandshake fails the test unless both sides complete.
func mustHandshake(t testing.TB, c, s *engine) {
	t.Helper()
	if cerr, serr := handshake(c, s, 0); cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
}

// transfer writes data on a and reads it all on b.
func transfer(t testing.TB, a, b *engine, data []byte) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 32<<10)
	rest := data
	for range 100000 {
		if len(rest) > 0 {
			n, err := a.Write(rest)
			rest = rest[n:]
			if err != nil && !errors.Is(err, ssl.ErrWantWrite) {
				t.Fatalf("write: %v", err)
			}
		}
		move(a, b, 0)
		for {
			n, err := b.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, ssl.ErrWantRead) {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
		}
		move(b, a, 0) // post-handshake messages (tickets, key updates)
		if len(rest) == 0 && len(got) >= len(data) {
			return got
		}
	}
	t.Fatal("transfer did not finish")
	return nil
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
