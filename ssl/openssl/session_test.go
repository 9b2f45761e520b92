//go:build cgo && linux

package openssl

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

func TestSessionTicketsAndResumption(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		t.Run(proto.String(), func(t *testing.T) {
			ccfg := p.clientConfig()
			ccfg.SetProtocol(proto)
			ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
			scfg := p.serverConfig(p.server)
			c, s := p.pair(t, ccfg, scfg)
			mustHandshake(t, c.e, s.e)
			transfer(t, s.e, c.e, []byte("x")) // TLS 1.3 tickets arrive after the handshake
			wantTickets := map[ssl.Protocol]int{ssl.TlsV1_2: 1, ssl.TlsV1_3: 2}[proto]
			if len(c.hooks.tickets) != wantTickets {
				t.Fatalf("%d tickets, want %d", len(c.hooks.tickets), wantTickets)
			}
			for _, h := range c.hooks.hints {
				if h != 7200 {
					t.Errorf("lifetime hint %d, want OpenSSL's 7200", h)
				}
			}
			// Resume with the last ticket: a new server engine of the same
			// configuration shares the ticket keys.
			ccfg.SetSessionTicket(c.hooks.tickets[len(c.hooks.tickets)-1])
			c2, s2 := p.pair(t, ccfg, scfg)
			mustHandshake(t, c2.e, s2.e)
			if !c2.e.State().Resumed || !s2.e.State().Resumed {
				t.Fatal("not resumed")
			}
			// The resumed session is verified again, on the whole chain.
			calls := c2.hooks.verifyCalls
			if len(calls) != 1 || len(calls[0].chain) != 1 || !calls[0].chain[0].Equal(certOf(p.server)) {
				t.Errorf("VerifyPeer on resumption: %v", calls)
			}
			if st := c2.e.State(); len(st.PeerChain) != 1 {
				t.Errorf("peer chain after resumption %v", st.PeerChain)
			}
			// A resumed session the verifier now refuses fails.
			ccfg2 := ccfg
			c3, s3 := p.pair(t, ccfg2, scfg)
			c3.hooks.verify = verifyAs(nil, "localhost", ssl.PurposeServerAuth)
			if cerr, _ := handshake(c3.e, s3.e, 0); cerr == nil {
				t.Error("a resumed session escaped verification")
			}
		})
	}
}

func TestSessionTicketOptions(t *testing.T) {
	p := newTestPKI(t)
	// Qt's default (persistence disabled): no ticket is delivered.
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	transfer(t, s.e, c.e, []byte("x"))
	if len(c.hooks.tickets) != 0 {
		t.Error("tickets delivered with SslOptionDisableSessionPersistence")
	}
	// The server's SslOptionDisableSessionTickets: TLS 1.2 issues no
	// ticket, the session is cached by the server (shared context) and
	// resumed by its id.
	ccfg := p.clientConfig()
	ccfg.SetProtocol(ssl.TlsV1_2)
	ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	scfg := p.serverConfig(p.server)
	scfg.SetSslOption(ssl.SslOptionDisableSessionTickets, true)
	c, s = p.pair(t, ccfg, scfg)
	mustHandshake(t, c.e, s.e)
	if len(c.hooks.tickets) != 1 || c.hooks.hints[0] != 0 {
		t.Fatalf("sessions %d, hints %v (no ticket: hint 0)", len(c.hooks.tickets), c.hooks.hints)
	}
	ccfg.SetSessionTicket(c.hooks.tickets[0])
	c, s = p.pair(t, ccfg, scfg)
	mustHandshake(t, c.e, s.e)
	if !c.e.State().Resumed {
		t.Error("session id resumption failed")
	}
	// The client's SslOptionDisableSessionTickets: nothing is delivered.
	ccfg.SetSslOption(ssl.SslOptionDisableSessionTickets, true)
	c, s = p.pair(t, ccfg, p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	transfer(t, s.e, c.e, []byte("x"))
	if len(c.hooks.tickets) != 0 {
		t.Error("a session was delivered with SslOptionDisableSessionTickets")
	}
}

func TestBadSessionTickets(t *testing.T) {
	p := newTestPKI(t)
	ccfg := p.clientConfig()
	ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	valid := encodeTicket([]byte("not DER"), nil)
	for name, ticket := range map[string][]byte{
		"garbage":            []byte("garbage"),
		"go backend's":       append([]byte{0, 1}, bytes.Repeat([]byte{7}, 100)...),
		"truncated":          valid[:len(valid)-1],
		"bad session DER":    valid,
		"trailing bytes":     append(append([]byte(nil), valid...), 0),
		"bad chain":          append(encodeTicket([]byte{0x30, 0}, nil)[:4+4+2], 0, 1, 0, 0, 0, 2, 0x30, 0),
		"huge length":        {'O', 'S', 'L', '1', 0xff, 0xff, 0xff, 0xff},
		"too many certs":     append(encodeTicket([]byte{0x30, 0}, nil)[:4+4+2], 0xff, 0xff),
		"empty session":      encodeTicket(nil, nil),
		"only the magic":     []byte(ticketMagic),
		"negative-looking":   {'O', 'S', 'L', '1', 0x80, 0, 0, 0},
		"certificate is bad": encodeTicketRaw([]byte{0x30, 0}, [][]byte{[]byte("junk")}),
	} {
		ccfg.SetSessionTicket(ticket)
		_, err := newEngine(ssl.SessionParams{Config: ccfg, Hooks: &testHooks{}, ServerName: "localhost"})
		if !errors.Is(err, ssl.ErrInvalidUserData) || !strings.Contains(err.Error(), "Invalid session ticket") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// encodeTicketRaw builds a ticket with arbitrary certificate bytes.
func encodeTicketRaw(session []byte, certs [][]byte) []byte {
	out := encodeTicket(session, nil)
	out = out[:len(out)-2]
	out = append(out, 0, byte(len(certs)))
	for _, c := range certs {
		out = append(out, 0, 0, byte(len(c)>>8), byte(len(c)))
		out = append(out, c...)
	}
	return out
}

func TestAlpn(t *testing.T) {
	p := newTestPKI(t)
	for _, tc := range []struct {
		name               string
		server, client     []string
		want               string
		serverSt, clientSt ssl.NextProtocolNegotiationStatus
	}{
		// Qt on OpenSSL (reference qt-measured §5): the client's order wins.
		{"client's order wins", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, "http/1.1",
			ssl.NextProtocolNegotiationNegotiated, ssl.NextProtocolNegotiationNegotiated},
		{"one in common", []string{"h2", "http/1.1"}, []string{"http/1.1"}, "http/1.1",
			ssl.NextProtocolNegotiationNegotiated, ssl.NextProtocolNegotiationNegotiated},
		{"server has none", nil, []string{"h2", "http/1.1"}, "", ssl.NextProtocolNegotiationNone, ssl.NextProtocolNegotiationNone},
		{"client offers none", []string{"h2"}, nil, "", ssl.NextProtocolNegotiationNone, ssl.NextProtocolNegotiationNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccfg := p.clientConfig()
			ccfg.SetAllowedNextProtocols(tc.client)
			scfg := p.serverConfig(p.server)
			scfg.SetAllowedNextProtocols(tc.server)
			c, s := p.pair(t, ccfg, scfg)
			mustHandshake(t, c.e, s.e)
			cs, ss := c.e.State(), s.e.State()
			if cs.ALPN != tc.want || cs.ALPNStatus != tc.clientSt {
				t.Errorf("client %q %v", cs.ALPN, cs.ALPNStatus)
			}
			wantServer := tc.want
			if tc.serverSt == ssl.NextProtocolNegotiationUnsupported {
				wantServer = ssl.NextProtocolHttp1_1
			}
			if ss.ALPN != wantServer || ss.ALPNStatus != tc.serverSt {
				t.Errorf("server %q %v", ss.ALPN, ss.ALPNStatus)
			}
		})
	}
}

// No overlap ends the handshake with no_application_protocol (RFC 7301),
// as on the go backend (Qt's server would answer its own first protocol,
// which its clients abort on).
func TestAlpnWithoutOverlap(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		ccfg.SetAllowedNextProtocols([]string{"x-one", "x-two"})
		scfg := p.serverConfig(p.server)
		scfg.SetAllowedNextProtocols([]string{"h2"})
		c, s := p.pair(t, ccfg, scfg)
		cerr, serr := handshake(c.e, s.e, 0)
		if cerr == nil || serr == nil {
			t.Fatalf("%v: completed without an overlap", proto)
		}
		if !s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertNoApplicationProtocol) ||
			!c.hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertNoApplicationProtocol) {
			t.Errorf("%v: alerts: server %v, client %v", proto, s.hooks.alertList(), c.hooks.alertList())
		}
	}
}

func TestServerNameAndEphemeralKey(t *testing.T) {
	p := newTestPKI(t)
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	if got := s.e.State().ServerName; got != "localhost" {
		t.Errorf("server saw SNI %q", got)
	}
	// A P-384 group only: the ephemeral key is an ECDSA P-384 public key.
	ccfg := p.clientConfig()
	ccfg.SetEllipticCurves([]ssl.EllipticCurve{ssl.CurveFromShortName("secp384r1")})
	c, s = p.pair(t, ccfg, p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	if k := c.e.State().EphemeralKey; k.Algorithm() != ssl.Ec || k.Length() != 384 {
		t.Errorf("ephemeral key %v %d bits", k.Algorithm(), k.Length())
	}
}

func TestDiffieHellman(t *testing.T) {
	p := newTestPKI(t)
	rsaServer := p.root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, Key: pki.RSA2048})
	ccfg := p.clientConfig()
	ccfg.SetProtocol(ssl.TlsV1_2)
	ccfg.SetBackendConfigurationOption("CipherString", "DHE-RSA-AES128-GCM-SHA256")
	// The default group (RFC 3526, 2048 bits) serves DHE.
	c, s := p.pair(t, ccfg, p.serverConfig(rsaServer))
	mustHandshake(t, c.e, s.e)
	if name := s.e.cipherName(); name != "DHE-RSA-AES128-GCM-SHA256" {
		t.Errorf("cipher %q", name)
	}
	// 1024-bit parameters are refused at security level 2 (Debian's).
	small := ssl.ParseDiffieHellmanParameters(mustRead(t, "testdata/dh1024.pem"), ssl.Pem)
	if !small.IsValid() {
		t.Fatalf("testdata/dh1024.pem: %v", small.ErrorString())
	}
	scfg := p.serverConfig(rsaServer)
	scfg.SetDiffieHellmanParameters(small)
	_, err := newEngine(ssl.SessionParams{Server: true, Config: scfg, Hooks: &testHooks{}})
	if level := defaultSecurityLevel(); level >= 2 {
		if !errors.Is(err, ssl.ErrInvalidUserData) || !strings.Contains(err.Error(), "dh key too small") {
			t.Errorf("1024-bit DH at level %d: %v", level, err)
		}
	} else if err != nil {
		t.Errorf("1024-bit DH at level %d: %v", level, err)
	}
	// Unusable parameters are a configuration error.
	scfg.SetDiffieHellmanParameters(ssl.ParseDiffieHellmanParameters([]byte("junk"), ssl.Der))
	if _, err := newEngine(ssl.SessionParams{Server: true, Config: scfg, Hooks: &testHooks{}}); !errors.Is(err, ssl.ErrInvalidUserData) {
		t.Errorf("junk DH: %v", err)
	}
}

func TestConfigurationErrors(t *testing.T) {
	p := newTestPKI(t)
	other := p.root.MustIssue(pki.Spec{CommonName: "other"})
	for _, tc := range []struct {
		name   string
		server bool
		cfg    func() ssl.Configuration
		msg    string
	}{
		{"DTLS", false, func() ssl.Configuration { c := p.clientConfig(); c.SetProtocol(ssl.DtlsV1_2); return c },
			"Attempted to use an unsupported protocol."},
		{"certificate without key", true, func() ssl.Configuration {
			var c ssl.Configuration
			c.SetLocalCertificate(certOf(p.server))
			return c
		}, "Cannot provide a certificate with no key"},
		{"key that does not match", true, func() ssl.Configuration {
			c := p.serverConfig(p.server)
			c.SetPrivateKey(ssl.NewKey(other.Key))
			return c
		}, "Private key does not certify public key"},
		{"unknown cipher string", false, func() ssl.Configuration {
			c := p.clientConfig()
			c.SetBackendConfigurationOption("CipherString", "NO-SUCH-CIPHER")
			return c
		}, "CipherString"},
		{"unknown command", false, func() ssl.Configuration {
			c := p.clientConfig()
			c.SetBackendConfigurationOption("NoSuchCommand", "1")
			return c
		}, "unknown command"},
		{"only TLS 1.2 suites with TLS 1.3 only", false, func() ssl.Configuration {
			c := p.clientConfig()
			c.SetProtocol(ssl.TlsV1_3)
			c.SetCiphers([]ssl.Cipher{ssl.CipherByName("ECDHE-ECDSA-AES128-GCM-SHA256")})
			return c
		}, "Invalid or empty cipher list"},
		{"invalid curve", false, func() ssl.Configuration {
			c := p.clientConfig()
			c.SetEllipticCurves([]ssl.EllipticCurve{{}})
			return c
		}, "elliptic curves"},
		{"NUL in the PSK hint", true, func() ssl.Configuration {
			c := p.serverConfig(p.server)
			c.SetPreSharedKeyIdentityHint([]byte("a\x00b"))
			return c
		}, "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newEngine(ssl.SessionParams{Server: tc.server, Config: tc.cfg(), Hooks: &testHooks{}})
			if !errors.Is(err, ssl.ErrInvalidUserData) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
		})
	}
	// What the go backend cannot do, this one can: a TLS 1.3 suite subset
	// and curves crypto/tls lacks.
	ccfg := p.clientConfig()
	ccfg.SetCiphers([]ssl.Cipher{ssl.CipherByName("TLS_AES_128_GCM_SHA256")})
	scfg := p.serverConfig(p.server)
	scfg.SetEllipticCurves([]ssl.EllipticCurve{ssl.CurveFromShortName("secp256k1"), ssl.CurveFromShortName("X25519")})
	c, s := p.pair(t, ccfg, scfg)
	mustHandshake(t, c.e, s.e)
	if got := c.e.State().Cipher.Name(); got != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("cipher %q", got)
	}
}
