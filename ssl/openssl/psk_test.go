//go:build cgo && linux

package openssl

import (
	"bytes"
	"errors"
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
			if cerr, _ := handshake(c.e, s.e, 0); !errors.Is(cerr, errNoPreSharedKey) {
				t.Errorf("client without a key: %v", cerr)
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
