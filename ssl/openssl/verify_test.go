//go:build cgo && linux

package openssl

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

var bothVersions = []ssl.Protocol{ssl.TlsV1_2, ssl.TlsV1_3}

// expiredError is a verification error that names its alert.
type expiredError struct{}

func (expiredError) Error() string            { return "expired" }
func (expiredError) AlertType() ssl.AlertType { return ssl.AlertCertificateExpired }

func TestVerifyRejectionSendsTheAlert(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		for _, tc := range []struct {
			name string
			err  error
			want ssl.AlertType
		}{
			{"untrusted", nil, ssl.AlertUnknownCa}, // VerificationError.AlertType: Qt's unknown_ca
			{"named alert", expiredError{}, ssl.AlertCertificateExpired},
		} {
			t.Run(proto.String()+"/"+tc.name, func(t *testing.T) {
				ccfg := p.clientConfig()
				ccfg.SetProtocol(proto)
				c, s := p.pair(t, ccfg, p.serverConfig(p.server))
				if tc.err != nil {
					c.hooks.verify = func([]ssl.Certificate, []byte) error { return tc.err }
				} else {
					c.hooks.verify = verifyAs(nil, "localhost", ssl.PurposeServerAuth) // the system's roots: untrusted
				}
				cerr, serr := handshake(c.e, s.e, 0)
				var ve *ssl.VerificationError
				switch {
				case tc.err != nil && !errors.Is(cerr, tc.err):
					t.Errorf("client error %v, want the hook's", cerr)
				case tc.err == nil && !errors.As(cerr, &ve):
					t.Errorf("client error %v, want a VerificationError", cerr)
				}
				if serr == nil {
					t.Error("the server completed")
				}
				if !c.hooks.hasAlert(true, ssl.AlertLevelFatal, tc.want) || !s.hooks.hasAlert(false, ssl.AlertLevelFatal, tc.want) {
					t.Errorf("alerts: client %v, server %v", c.hooks.alertList(), s.hooks.alertList())
				}
			})
		}
	}
}

func TestVerifyPausesTheClient(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		c, s := p.pair(t, ccfg, p.serverConfig(p.server))
		calls := 0
		c.hooks.verify = func([]ssl.Certificate, []byte) error {
			calls++
			if calls < 3 {
				return ssl.ErrWantRetryVerify
			}
			return nil
		}
		cerr, _ := handshake(c.e, s.e, 0)
		if cerr == nil {
			// handshake() treats ErrWantRetryVerify as waiting: it stalls.
			t.Fatalf("%v: completed while paused", proto)
		}
		if err := c.e.Handshake(); !errors.Is(err, ssl.ErrWantRetryVerify) && err != nil {
			t.Fatalf("%v: %v", proto, err)
		}
		mustHandshake(t, c.e, s.e)
		if calls != 3 {
			t.Errorf("%v: VerifyPeer called %d times", proto, calls)
		}
		if got := transfer(t, c.e, s.e, []byte("after the pause")); string(got) != "after the pause" {
			t.Errorf("%v: %q", proto, got)
		}
	}
}

func TestVerifyPausesTheServer(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		for _, accept := range []bool{true, false} {
			ccfg := p.clientConfig()
			ccfg.SetProtocol(proto)
			ccfg.SetLocalCertificate(certOf(p.client))
			ccfg.SetPrivateKey(ssl.NewKey(p.client.Key))
			scfg := p.serverConfig(p.server)
			scfg.SetPeerVerifyMode(ssl.VerifyPeer)
			c, s := p.pair(t, ccfg, scfg)
			paused := true
			rejection := errors.New("rejected after the pause")
			s.hooks.verify = func(chain []ssl.Certificate, _ []byte) error {
				if len(chain) != 1 || !chain[0].Equal(certOf(p.client)) {
					t.Errorf("server saw chain %v", chain)
				}
				if paused {
					return ssl.ErrWantRetryVerify
				}
				if !accept {
					return rejection
				}
				return nil
			}
			handshake(c.e, s.e, 0)
			if err := s.e.Handshake(); !errors.Is(err, ssl.ErrWantRetryVerify) {
				t.Fatalf("%v: server %v", proto, err)
			}
			if s.e.PendingOutput() != 0 || s.e.TakeOutput(make([]byte, 100)) != 0 {
				t.Errorf("%v: output leaves while the decision is pending", proto)
			}
			paused = false
			cerr, serr := handshake(c.e, s.e, 0)
			if accept {
				if cerr != nil || serr != nil {
					t.Errorf("%v: accepted: %v %v", proto, cerr, serr)
				}
				continue
			}
			if !errors.Is(serr, rejection) {
				t.Errorf("%v: server error %v", proto, serr)
			}
			// libssl went on provisionally: the rejection sends no alert
			// (as Qt's server), the held output is dropped.
			for _, a := range s.hooks.alertList() {
				if a.sent {
					t.Errorf("%v: alert sent after a provisional acceptance: %v", proto, a)
				}
			}
			if s.e.PendingOutput() != 0 {
				t.Errorf("%v: output left after the rejection", proto)
			}
		}
	}
}

func TestServerClientCertificatePolicy(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		// VerifyPeer with MissingCertificateIsFatal: libssl refuses.
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		scfg := p.serverConfig(p.server)
		scfg.SetPeerVerifyMode(ssl.VerifyPeer)
		scfg.SetMissingCertificateIsFatal(true)
		c, s := p.pair(t, ccfg, scfg)
		_, serr := handshake(c.e, s.e, 0)
		want := map[ssl.Protocol]ssl.AlertType{ssl.TlsV1_2: ssl.AlertHandshakeFailure, ssl.TlsV1_3: ssl.AlertCertificateRequired}[proto]
		if serr == nil || !s.hooks.hasAlert(true, ssl.AlertLevelFatal, want) {
			t.Errorf("%v fatal: %v %v", proto, serr, s.hooks.alertList())
		}
		// Not fatal: the hook decides on the empty chain.
		scfg.SetMissingCertificateIsFatal(false)
		c, s = p.pair(t, ccfg, scfg)
		s.hooks.verify = func(chain []ssl.Certificate, _ []byte) error {
			if len(chain) != 0 {
				t.Errorf("chain %v", chain)
			}
			return errors.New("no certificate")
		}
		if _, serr := handshake(c.e, s.e, 0); serr == nil || len(s.hooks.verifyCalls) != 1 {
			t.Errorf("%v not fatal: %v, %d calls", proto, serr, len(s.hooks.verifyCalls))
		}
	}
}

func TestOcspStapling(t *testing.T) {
	p := newTestPKI(t)
	staple := []byte("a DER OCSP response would be here; libssl does not parse it")
	for _, proto := range bothVersions {
		for _, withStaple := range []bool{true, false} {
			ccfg := p.clientConfig()
			ccfg.SetProtocol(proto)
			ccfg.SetOcspStaplingEnabled(true)
			scfg := p.serverConfig(p.server)
			if withStaple {
				scfg.SetOcspStaple(staple)
			}
			c, s := p.pair(t, ccfg, scfg)
			mustHandshake(t, c.e, s.e)
			calls := c.hooks.verifyCalls
			if len(calls) != 1 || len(calls[0].chain) != 1 {
				t.Fatalf("%v: VerifyPeer calls %v", proto, calls)
			}
			if withStaple && !bytes.Equal(calls[0].ocsp, staple) || !withStaple && calls[0].ocsp != nil {
				t.Errorf("%v staple %v: VerifyPeer got %q", proto, withStaple, calls[0].ocsp)
			}
			if got := c.e.State().OCSPResponse; withStaple != bytes.Equal(got, staple) {
				t.Errorf("%v: state's OCSP response %q", proto, got)
			}
		}
	}
}

// In TLS 1.2 the staple follows the certificate: the decision is taken in
// the status callback, where libssl cannot pause; the output is held.
func TestOcspDecisionPausesInTLS12(t *testing.T) {
	p := newTestPKI(t)
	ccfg := p.clientConfig()
	ccfg.SetProtocol(ssl.TlsV1_2)
	ccfg.SetOcspStaplingEnabled(true)
	scfg := p.serverConfig(p.server)
	scfg.SetOcspStaple([]byte("staple"))
	c, s := p.pair(t, ccfg, scfg)
	decided := false
	c.hooks.verify = func(_ []ssl.Certificate, ocsp []byte) error {
		if string(ocsp) != "staple" {
			t.Errorf("staple %q", ocsp)
		}
		if !decided {
			return ssl.ErrWantRetryVerify
		}
		return nil
	}
	handshake(c.e, s.e, 0)
	if err := c.e.Handshake(); !errors.Is(err, ssl.ErrWantRetryVerify) || c.e.PendingOutput() != 0 {
		t.Fatalf("paused: %v, %d bytes out", err, c.e.PendingOutput())
	}
	decided = true
	mustHandshake(t, c.e, s.e)
}

func TestProtocolMismatchAlerts(t *testing.T) {
	p := newTestPKI(t)
	ccfg := p.clientConfig()
	ccfg.SetProtocol(ssl.TlsV1_3)
	scfg := p.serverConfig(p.server)
	scfg.SetProtocol(ssl.TlsV1_2)
	c, s := p.pair(t, ccfg, scfg)
	cerr, serr := handshake(c.e, s.e, 0)
	if cerr == nil || serr == nil {
		t.Fatal("a version mismatch completed")
	}
	if !containsText(serr, "error:0A000102:SSL routines::unsupported protocol") ||
		!containsText(cerr, "error:0A00042E:SSL routines::tlsv1 alert protocol version") {
		t.Errorf("errors: client %v, server %v", cerr, serr)
	}
	if !s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertProtocolVersion) ||
		!c.hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertProtocolVersion) {
		t.Errorf("alerts: client %v, server %v", c.hooks.alertList(), s.hooks.alertList())
	}
	want := alert{false, ssl.AlertLevelFatal, ssl.AlertProtocolVersion, "protocol version"}
	if got := c.hooks.alertList(); len(got) != 1 || got[0] != want {
		t.Errorf("client alerts %v", got)
	}
}

func containsText(err error, s string) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte(s))
}
