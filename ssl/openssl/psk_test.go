//go:build cgo && linux

package openssl

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

var testPSK = bytes.Repeat([]byte{0x5a}, 32)

// pskConfigs are a certificate-less PSK server with hint "H" and a client,
// both limited to proto.
func pskConfigs(proto ssl.Protocol) (ccfg, scfg ssl.Configuration) {
	ccfg.SetProtocol(proto)
	ccfg.SetPeerVerifyMode(ssl.VerifyNone)
	scfg.SetProtocol(proto)
	scfg.SetPreSharedKeyIdentityHint([]byte("H"))
	return ccfg, scfg
}

func pskPair(t *testing.T, ccfg, scfg ssl.Configuration, clientKey, serverKey []byte, identity []byte, tls13 bool) (c, s end) {
	t.Helper()
	c.hooks = &testHooks{psk13: tls13, psk: func(a *ssl.PreSharedKeyAuthenticator) error {
		a.SetIdentity(identity)
		a.SetPreSharedKey(clientKey)
		return nil
	}}
	s.hooks = &testHooks{psk13: tls13, psk: func(a *ssl.PreSharedKeyAuthenticator) error {
		if bytes.Equal(a.Identity(), identity[:min(len(identity), maxIdentityLength)]) {
			a.SetPreSharedKey(serverKey)
		}
		return nil
	}}
	c.e = mustEngine(t, false, ccfg, c.hooks, "")
	s.e = mustEngine(t, true, scfg, s.hooks, "")
	return c, s
}

// TestPSKTLS12 is Qt's measured PSK exchange (reference §5): the client's
// authenticator carries the hint, the server's the client's identity. The
// server picks in OpenSSL's order; with the default DH group set (RFC 3526,
// as Configuration's default) that is DHE-PSK-AES256-GCM-SHA384, where Qt's
// measured server picked ECDHE-PSK-CHACHA20-POLY1305.
func TestPSKTLS12(t *testing.T) {
	ccfg, scfg := pskConfigs(ssl.TlsV1_2)
	c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), false)
	mustHandshake(t, c.e, s.e)
	if got := transfer(t, c.e, s.e, []byte("psk data")); string(got) != "psk data" {
		t.Errorf("data %q", got)
	}
	// Without the DH group the ECDHE suite Qt's server picked is chosen.
	scfg.SetDiffieHellmanParameters(ssl.DiffieHellmanParameters{})
	c2, s2 := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), false)
	mustHandshake(t, c2.e, s2.e)
	if name := c2.e.cipherName(); name != "ECDHE-PSK-CHACHA20-POLY1305" {
		t.Errorf("cipher without DHE %q", name)
	}
	if name := c.e.cipherName(); name != "DHE-PSK-AES256-GCM-SHA384" || s.e.cipherName() != name {
		t.Errorf("cipher %q / %q", name, s.e.cipherName())
	}
	cc, sc := c.hooks.pskCalls, s.hooks.pskCalls
	if len(cc) != 1 || string(cc[0].hint) != "H" || cc[0].maxID != maxIdentityLength || cc[0].maxKey != maxPreSharedKeyLength {
		t.Errorf("client authenticator %+v", cc)
	}
	if len(sc) != 1 || string(sc[0].identity) != "client1" || string(sc[0].hint) != "H" || sc[0].maxID != 0 || sc[0].maxKey != maxPreSharedKeyLength {
		t.Errorf("server authenticator %+v", sc)
	}
	// No certificate: VerifyPeer decides on an empty chain, once per side.
	if len(c.hooks.verifyCalls) != 1 || len(c.hooks.verifyCalls[0].chain) != 0 {
		t.Errorf("client VerifyPeer %v", c.hooks.verifyCalls)
	}
}

func TestPSKTLS13External(t *testing.T) {
	ccfg, scfg := pskConfigs(ssl.TlsV1_3)
	c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), true)
	mustHandshake(t, c.e, s.e)
	if got := transfer(t, s.e, c.e, []byte("tls 1.3 psk")); string(got) != "tls 1.3 psk" {
		t.Errorf("data %q", got)
	}
	// The PSK's hash is SHA-256: the server picks its preferred suite with it.
	if st := c.e.State(); st.Version != 0x0304 || st.Cipher.Name() != "TLS_CHACHA20_POLY1305_SHA256" || !st.Resumed {
		t.Errorf("version %#x cipher %q resumed %v", st.Version, st.Cipher.Name(), st.Resumed)
	}
	if cc := c.hooks.pskCalls; len(cc) != 1 || len(cc[0].hint) != 0 {
		t.Errorf("client authenticator %+v (TLS 1.3 has no hint)", cc)
	}
	if sc := s.hooks.pskCalls; len(sc) != 1 || string(sc[0].identity) != "client1" {
		t.Errorf("server authenticator %+v", sc)
	}
}

func TestPSKFailures(t *testing.T) {
	for _, proto := range bothVersions {
		tls13 := proto == ssl.TlsV1_3
		t.Run(proto.String()+"/wrong key", func(t *testing.T) {
			ccfg, scfg := pskConfigs(proto)
			other := bytes.Repeat([]byte{0x11}, 32)
			c, s := pskPair(t, ccfg, scfg, testPSK, other, []byte("client1"), tls13)
			cerr, serr := handshake(c.e, s.e, 0)
			if cerr == nil || serr == nil {
				t.Fatalf("a wrong key was accepted: %v %v", cerr, serr)
			}
			var oe *Error
			if !errors.As(serr, &oe) || oe.Code == 0 {
				t.Errorf("server error %v", serr)
			}
			if !s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertDecryptError) &&
				!s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertBadRecordMac) &&
				!s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertIllegalParameter) {
				t.Errorf("server alerts %v", s.hooks.alertList())
			}
		})
		t.Run(proto.String()+"/no key", func(t *testing.T) {
			ccfg, scfg := pskConfigs(proto)
			c, s := pskPair(t, ccfg, scfg, nil, testPSK, []byte("client1"), tls13)
			cerr, serr := handshake(c.e, s.e, 0)
			if !tls13 {
				if !errors.Is(cerr, errNoPreSharedKey) || !errors.Is(cerr, ssl.ErrNoPreSharedKey) {
					t.Errorf("client without a key: %v", cerr)
				}
				return
			}
			// TLS 1.3: no PSK is offered and the handshake is left to
			// certificates, which this certificate-less server has none of.
			if errors.Is(cerr, ssl.ErrNoPreSharedKey) || cerr == nil || serr == nil ||
				!containsText(serr, "no suitable signature algorithm") {
				t.Errorf("client %v, server %v", cerr, serr)
			}
			if len(c.hooks.pskCalls) != 1 || len(s.hooks.pskCalls) != 0 {
				t.Errorf("client asked %d times, server %d times (nothing offered)", len(c.hooks.pskCalls), len(s.hooks.pskCalls))
			}
		})
		t.Run(proto.String()+"/ErrNoPreSharedKey", func(t *testing.T) {
			// The shared endpoint's answer when the handler set no key.
			for _, side := range []string{"client", "server"} {
				ccfg, scfg := pskConfigs(proto)
				c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), tls13)
				h, other := c.hooks, s.hooks
				if side == "server" {
					h, other = s.hooks, c.hooks
				}
				h.psk = func(*ssl.PreSharedKeyAuthenticator) error { return ssl.ErrNoPreSharedKey }
				cerr, serr := handshake(c.e, s.e, 0)
				err := map[string]error{"client": cerr, "server": serr}[side]
				if len(h.pskCalls) != 1 {
					t.Errorf("%s asked %d times", side, len(h.pskCalls))
				}
				if !tls13 {
					if !errors.Is(err, ssl.ErrNoPreSharedKey) {
						t.Errorf("TLS 1.2 %s without a key: %v", side, err)
					}
					continue
				}
				// Certificates go on: the certificate-less server fails the
				// handshake for want of one, not for want of a key.
				if cerr == nil || serr == nil || errors.Is(cerr, ssl.ErrNoPreSharedKey) || errors.Is(serr, ssl.ErrNoPreSharedKey) ||
					!containsText(serr, "no suitable signature algorithm") {
					t.Errorf("TLS 1.3 %s without a key: client %v, server %v", side, cerr, serr)
				}
				if side == "client" && len(other.pskCalls) != 0 {
					t.Error("the server was asked although the client offered no PSK")
				}
			}
		})
		t.Run(proto.String()+"/client hook error", func(t *testing.T) {
			ccfg, scfg := pskConfigs(proto)
			c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), tls13)
			refused := errors.New("refused by the application")
			c.hooks.psk = func(*ssl.PreSharedKeyAuthenticator) error { return refused }
			if cerr, _ := handshake(c.e, s.e, 0); !errors.Is(cerr, refused) {
				t.Errorf("client: %v", cerr)
			}
		})
		t.Run(proto.String()+"/hook error", func(t *testing.T) {
			ccfg, scfg := pskConfigs(proto)
			c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), tls13)
			refused := errors.New("refused by the application")
			s.hooks.psk = func(*ssl.PreSharedKeyAuthenticator) error { return refused }
			if _, serr := handshake(c.e, s.e, 0); !errors.Is(serr, refused) {
				t.Errorf("server: %v", serr)
			}
		})
		t.Run(proto.String()+"/identity over the maximum", func(t *testing.T) {
			// Qt's authenticator truncates to MaximumIdentityLength (256).
			long := bytes.Repeat([]byte("i"), 300)
			ccfg, scfg := pskConfigs(proto)
			c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, long, tls13)
			mustHandshake(t, c.e, s.e)
			if sc := s.hooks.pskCalls; len(sc) != 1 || len(sc[0].identity) != maxIdentityLength {
				t.Errorf("server saw an identity of %d bytes", len(sc[0].identity))
			}
		})
	}
}

// With TLS 1.3 possible and no TLS 1.3 PSK wanted, a certificate-less PSK
// server fails as Qt's does (reference §3).
func TestPSKWithDefaultProtocolFailsAsQt(t *testing.T) {
	ccfg, scfg := pskConfigs(ssl.SecureProtocols)
	c, s := pskPair(t, ccfg, scfg, testPSK, testPSK, []byte("client1"), false)
	cerr, serr := handshake(c.e, s.e, 0)
	if !containsText(serr, "error:0A000076:SSL routines::no suitable signature algorithm") ||
		!containsText(cerr, "error:0A000410:SSL routines::sslv3 alert handshake failure") {
		t.Errorf("client %v, server %v", cerr, serr)
	}
	if len(c.hooks.pskCalls) != 0 {
		t.Error("the client was asked for a PSK")
	}
}

// certPSKPair is a TLS 1.3 client and certificate server whose hooks both
// want a TLS 1.3 external PSK, answered by client and server.
func certPSKPair(t *testing.T, p *testPKI, client, server func(*ssl.PreSharedKeyAuthenticator) error) (c, s end) {
	t.Helper()
	ccfg, scfg := p.clientConfig(), p.serverConfig(p.server)
	ccfg.SetProtocol(ssl.TlsV1_3)
	scfg.SetProtocol(ssl.TlsV1_3)
	c.hooks = &testHooks{psk13: true, psk: client, verify: verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)}
	s.hooks = &testHooks{psk13: true, psk: server}
	c.e = mustEngine(t, false, ccfg, c.hooks, "localhost")
	s.e = mustEngine(t, true, scfg, s.hooks, "")
	return c, s
}

// TestPSKTLS13NoKeyLeavesTheHandshakeToCertificates: both sides ask for a
// TLS 1.3 external PSK (the application listens to
// preSharedKeyAuthenticationRequired) and a side's handler sets no key:
// as in Qt, which never asks in TLS 1.3, the certificate handshake
// completes — verified — and data flows.
func TestPSKTLS13NoKeyLeavesTheHandshakeToCertificates(t *testing.T) {
	p := newTestPKI(t)
	noKey := func(*ssl.PreSharedKeyAuthenticator) error { return ssl.ErrNoPreSharedKey }
	withKey := func(a *ssl.PreSharedKeyAuthenticator) error {
		a.SetIdentity([]byte("client1"))
		a.SetPreSharedKey(testPSK)
		return nil
	}
	emptyNoError := func(*ssl.PreSharedKeyAuthenticator) error { return nil }
	for _, tc := range []struct {
		name                 string
		client, server       func(*ssl.PreSharedKeyAuthenticator) error
		clientAsked, srvAskd int
	}{
		{"neither sets a key", noKey, noKey, 1, 0},
		{"the server sets no key", withKey, noKey, 1, 1},
		{"the client sets no key", noKey, withKey, 1, 0},
		{"no key and no error", emptyNoError, emptyNoError, 1, 0},
		{"the server: no key and no error", withKey, emptyNoError, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := certPSKPair(t, p, tc.client, tc.server)
			mustHandshake(t, c.e, s.e)
			if got := transfer(t, c.e, s.e, []byte("over certificates")); string(got) != "over certificates" {
				t.Errorf("data %q", got)
			}
			if got := transfer(t, s.e, c.e, []byte("and back")); string(got) != "and back" {
				t.Errorf("data %q", got)
			}
			st := c.e.State()
			if st.Version != 0x0304 || st.Resumed || len(st.PeerChain) == 0 || !st.PeerChain[0].Equal(certOf(p.server)) {
				t.Errorf("version %#x resumed %v chain %d", st.Version, st.Resumed, len(st.PeerChain))
			}
			if len(c.hooks.verifyCalls) != 1 || len(c.hooks.verifyCalls[0].chain) == 0 {
				t.Errorf("the client verified %d times", len(c.hooks.verifyCalls))
			}
			if len(c.hooks.pskCalls) != tc.clientAsked || len(s.hooks.pskCalls) != tc.srvAskd {
				t.Errorf("asked: client %d, server %d", len(c.hooks.pskCalls), len(s.hooks.pskCalls))
			}
			for _, a := range append(c.hooks.alertList(), s.hooks.alertList()...) {
				if a.level == ssl.AlertLevelFatal {
					t.Errorf("alert %v", a)
				}
			}
		})
	}
	// With a key on both sides the PSK is still what is negotiated, even
	// with certificates at hand — once the suite's hash is the PSK's
	// (SHA-256): a server with a certificate picks in the client's order,
	// TLS_AES_256_GCM_SHA384 first by default, and libssl then ignores the
	// PSK (only a certificate-less server prefers SHA-256 suites).
	t.Run("both set a key", func(t *testing.T) {
		for _, sha256Only := range []bool{true, false} {
			ccfg, scfg := p.clientConfig(), p.serverConfig(p.server)
			ccfg.SetProtocol(ssl.TlsV1_3)
			scfg.SetProtocol(ssl.TlsV1_3)
			if sha256Only {
				ccfg.SetCiphers([]ssl.Cipher{ssl.CipherFromID(0x1301), ssl.CipherFromID(0x1303)})
			}
			verify := verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)
			c := end{hooks: &testHooks{psk13: true, psk: withKey, verify: func(chain []ssl.Certificate, ocsp []byte) error {
				if len(chain) == 0 { // the PSK authenticated the server
					return nil
				}
				return verify(chain, ocsp)
			}}}
			s := end{hooks: &testHooks{psk13: true, psk: withKey}}
			c.e = mustEngine(t, false, ccfg, c.hooks, "localhost")
			s.e = mustEngine(t, true, scfg, s.hooks, "")
			mustHandshake(t, c.e, s.e)
			if st := c.e.State(); st.Resumed != sha256Only || (len(st.PeerChain) == 0) != sha256Only {
				t.Errorf("SHA-256 suites only %v: resumed %v, chain %d, %s", sha256Only, st.Resumed, len(st.PeerChain), c.e.cipherName())
			}
			if got := transfer(t, c.e, s.e, []byte("psk")); string(got) != "psk" {
				t.Errorf("data %q", got)
			}
		}
	})
	// Any other hook error still fails the handshake, on either side.
	t.Run("hook error", func(t *testing.T) {
		refused := errors.New("refused by the application")
		for _, server := range []bool{false, true} {
			c, s := certPSKPair(t, p, withKey, withKey)
			h := c.hooks
			if server {
				h = s.hooks
			}
			h.psk = func(*ssl.PreSharedKeyAuthenticator) error { return fmt.Errorf("wrapped: %w", refused) }
			cerr, serr := handshake(c.e, s.e, 0)
			if err := map[bool]error{false: cerr, true: serr}[server]; !errors.Is(err, refused) {
				t.Errorf("server %v: client %v, server %v", server, cerr, serr)
			}
		}
	})
}
