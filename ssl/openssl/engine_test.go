//go:build cgo && linux

package openssl

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

func TestLoaded(t *testing.T) {
	if !Available() {
		t.Fatalf("libssl 3 did not load here: %v", LoadError())
	}
	if versionNumber>>28 != 3 || !strings.HasPrefix(versionString, "OpenSSL 3.") {
		t.Errorf("version %#x %q", versionNumber, versionString)
	}
}

func TestLoadFailuresSayWhy(t *testing.T) {
	err := load("libcrypto-does-not-exist.so.3", "libssl.so.3")
	if err == nil || !strings.Contains(err.Error(), "libcrypto-does-not-exist.so.3") {
		t.Errorf("missing library: %v", err)
	}
	// A library that is not libcrypto: the first symbol is missing.
	err = load("libc.so.6", "libc.so.6")
	if err == nil || !strings.Contains(err.Error(), "OpenSSL_version_num") {
		t.Errorf("wrong library: %v", err)
	}
	// The backend loaded before stays usable.
	p := newTestPKI(t)
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
}

func TestHandshakeAndData(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range []ssl.Protocol{ssl.TlsV1_2, ssl.TlsV1_3} {
		t.Run(proto.String(), func(t *testing.T) {
			ccfg := p.clientConfig()
			ccfg.SetProtocol(proto)
			c, s := p.pair(t, ccfg, p.serverConfig(p.server))
			mustHandshake(t, c.e, s.e)
			msg := bytes.Repeat([]byte("0123456789abcdef"), 5000)
			if got := transfer(t, c.e, s.e, msg); !bytes.Equal(got, msg) {
				t.Errorf("client→server: %d bytes, want %d", len(got), len(msg))
			}
			if got := transfer(t, s.e, c.e, msg[:777]); !bytes.Equal(got, msg[:777]) {
				t.Errorf("server→client: %q", got)
			}
			wantVersion := map[ssl.Protocol]uint16{ssl.TlsV1_2: tls.VersionTLS12, ssl.TlsV1_3: tls.VersionTLS13}[proto]
			for _, e := range []*engine{c.e, s.e} {
				st := e.State()
				if st.Version != wantVersion || st.Cipher.IsNull() || st.Resumed {
					t.Errorf("state: version %#x cipher %q resumed %v", st.Version, st.Cipher.Name(), st.Resumed)
				}
			}
			cst := c.e.State()
			if len(cst.PeerChain) != 1 || !cst.PeerChain[0].Equal(certOf(p.server)) {
				t.Errorf("client's peer chain %v", cst.PeerChain)
			}
			if _, ok := cst.EphemeralKey.Handle().(*ecdh.PublicKey); !ok {
				t.Errorf("ephemeral key %T (X25519 expected)", cst.EphemeralKey.Handle())
			}
			// One VerifyPeer call per side: the client's with the chain, the
			// server's (no certificate asked for) with none.
			if len(c.hooks.verifyCalls) != 1 || len(c.hooks.verifyCalls[0].chain) != 1 {
				t.Errorf("client VerifyPeer calls %d", len(c.hooks.verifyCalls))
			}
			if len(s.hooks.verifyCalls) != 1 || len(s.hooks.verifyCalls[0].chain) != 0 {
				t.Errorf("server VerifyPeer calls %v", s.hooks.verifyCalls)
			}
		})
	}
}

func TestOneByteAtATime(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range []ssl.Protocol{ssl.TlsV1_2, ssl.TlsV1_3} {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		scfg := p.serverConfig(p.server)
		scfg.SetPeerVerifyMode(ssl.VerifyPeer)
		ccfg.SetLocalCertificate(certOf(p.client))
		ccfg.SetPrivateKey(ssl.NewKey(p.client.Key))
		c, s := p.pair(t, ccfg, scfg)
		if cerr, serr := handshake(c.e, s.e, 1); cerr != nil || serr != nil {
			t.Fatalf("%v: client %v, server %v", proto, cerr, serr)
		}
		if st := s.e.State(); len(st.PeerChain) != 1 || !st.PeerChain[0].Equal(certOf(p.client)) {
			t.Errorf("%v: server's peer chain %v", proto, st.PeerChain)
		}
		// Application data one byte at a time.
		c.e.Write([]byte("hello, one byte at a time"))
		var got []byte
		buf := make([]byte, 1)
		for c.e.PendingOutput() > 0 || len(got) < 25 {
			move(c.e, s.e, 1)
			n, err := s.e.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil && !errors.Is(err, ssl.ErrWantRead) {
				t.Fatalf("read: %v", err)
			}
			if c.e.PendingOutput() == 0 && errors.Is(err, ssl.ErrWantRead) && len(got) < 25 && s.e.BufferedInput() == 0 {
				t.Fatalf("stalled at %q", got)
			}
		}
		if string(got) != "hello, one byte at a time" {
			t.Errorf("%v: got %q", proto, got)
		}
	}
}

func TestWriteBoundsPendingOutput(t *testing.T) {
	p := newTestPKI(t)
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	big := make([]byte, 1<<20)
	n, err := c.e.Write(big)
	if !errors.Is(err, ssl.ErrWantWrite) || n == 0 || n >= len(big) {
		t.Fatalf("Write(1 MiB) = %d, %v", n, err)
	}
	if pending := c.e.PendingOutput(); pending > ssl.MaxPendingOutput {
		t.Errorf("pending output %d > %d", pending, ssl.MaxPendingOutput)
	}
	buf := make([]byte, ssl.MaxPendingOutput)
	if pending, got := c.e.PendingOutput(), c.e.TakeOutput(buf); got != pending || c.e.PendingOutput() != 0 {
		t.Errorf("one TakeOutput of MaxPendingOutput bytes took %d of %d", got, pending)
	}
	if n2, err := c.e.Write(big[n:]); err != nil && !errors.Is(err, ssl.ErrWantWrite) || n2 == 0 {
		t.Errorf("after draining: %d, %v", n2, err)
	}
}

func TestCloseNotifyBothWays(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range []ssl.Protocol{ssl.TlsV1_2, ssl.TlsV1_3} {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		c, s := p.pair(t, ccfg, p.serverConfig(p.server))
		mustHandshake(t, c.e, s.e)
		if err := c.e.Shutdown(); err != nil {
			t.Fatal(err)
		}
		if err := c.e.Shutdown(); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
		move(c.e, s.e, 0)
		buf := make([]byte, 10)
		if _, err := s.e.Read(buf); err != io.EOF {
			t.Errorf("%v: server read after close_notify: %v", proto, err)
		}
		if !c.hooks.hasAlert(true, ssl.AlertLevelWarning, ssl.AlertCloseNotify) {
			t.Errorf("client alerts %v", c.hooks.alertList())
		}
		want := alert{false, ssl.AlertLevelWarning, ssl.AlertCloseNotify, "close notify"}
		if got := s.hooks.alertList(); len(got) != 1 || got[0] != want {
			t.Errorf("server alerts %v", got)
		}
		// The server answers; the client reads EOF too.
		if err := s.e.Shutdown(); err != nil {
			t.Fatal(err)
		}
		move(s.e, c.e, 0)
		if _, err := c.e.Read(buf); err != io.EOF {
			t.Errorf("client read: %v", err)
		}
	}
}

func TestUncleanShutdown(t *testing.T) {
	p := newTestPKI(t)
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	transfer(t, s.e, c.e, []byte("x"))
	c.e.FeedEOF()
	if _, err := c.e.Read(make([]byte, 4)); !errors.Is(err, ssl.ErrUncleanShutdown) {
		t.Errorf("read after EOF without close_notify: %v", err)
	}
	// As with Qt, no alert is reported for the peer's TCP close (libssl
	// never sees the end, so it sends no decode_error).
	if a := c.hooks.alertList(); len(a) != 0 {
		t.Errorf("alerts after EOF: %v", a)
	}
	// During the handshake: an error that unwraps to io.EOF (RemoteHostClosedError).
	c2, _ := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	if err := c2.e.Handshake(); !errors.Is(err, ssl.ErrWantRead) {
		t.Fatal(err)
	}
	c2.e.FeedEOF()
	if err := c2.e.Handshake(); !errors.Is(err, io.EOF) {
		t.Errorf("EOF during the handshake: %v", err)
	}
}

func TestClosedEngine(t *testing.T) {
	p := newTestPKI(t)
	c, _ := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	c.e.Close()
	c.e.Close()
	c.e.Feed([]byte("x"))
	c.e.FeedEOF()
	if c.e.Handshake() == nil || c.e.Shutdown() == nil || c.e.PendingOutput() != 0 || c.e.BufferedInput() != 0 {
		t.Error("a closed engine still works")
	}
	if _, err := c.e.Read(make([]byte, 1)); err == nil {
		t.Error("Read on a closed engine")
	}
	if _, err := c.e.Write([]byte("x")); err == nil {
		t.Error("Write on a closed engine")
	}
}

func TestGarbageInput(t *testing.T) {
	p := newTestPKI(t)
	cases := map[string][]byte{
		"http":            []byte("GET / HTTP/1.0\r\n\r\n"),
		"random":          randomBytes(t, 300),
		"oversized":       {22, 3, 3, 0xff, 0xff},
		"bad version":     {22, 9, 9, 0, 5, 1, 0, 0, 1, 0},
		"empty handshake": {22, 3, 1, 0, 0},
	}
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			s := mustEngine(t, true, p.serverConfig(p.server), &testHooks{}, "")
			s.Feed(input)
			s.Feed(randomBytes(t, 20000))
			err := s.Handshake()
			var oe *Error
			if !errors.As(err, &oe) || !strings.HasPrefix(oe.Text, "error:0A") {
				t.Fatalf("Handshake = %v", err)
			}
			if err2 := s.Handshake(); err2 != err {
				t.Errorf("error not latched: %v", err2)
			}
			if _, err3 := s.Read(make([]byte, 10)); err3 != err {
				t.Errorf("Read after failure: %v", err3)
			}
		})
	}
	// A client fed a non-TLS reply fails as Qt reports it.
	c := mustEngine(t, false, p.clientConfig(), &testHooks{}, "localhost")
	if err := c.Handshake(); !errors.Is(err, ssl.ErrWantRead) {
		t.Fatal(err)
	}
	c.Feed([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
	if err := c.Handshake(); err == nil || !strings.Contains(err.Error(), "error:0A00010B:SSL routines::wrong version number") {
		t.Errorf("non-TLS reply: %v", err)
	}
}

func TestTruncatedAndOversizedRecordsAfterHandshake(t *testing.T) {
	p := newTestPKI(t)
	c, s := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c.e, s.e)
	c.e.Write([]byte("some data"))
	buf := make([]byte, c.e.PendingOutput())
	c.e.TakeOutput(buf)
	// Truncated: half a record, then EOF.
	s.e.Feed(buf[:len(buf)/2])
	if _, err := s.e.Read(make([]byte, 64)); !errors.Is(err, ssl.ErrWantRead) {
		t.Fatalf("half a record: %v", err)
	}
	s.e.FeedEOF()
	if _, err := s.e.Read(make([]byte, 64)); !errors.Is(err, ssl.ErrUncleanShutdown) {
		t.Errorf("truncated record: %v", err)
	}
	// Oversized: a record header announcing more than TLS allows.
	c2, s2 := p.pair(t, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(t, c2.e, s2.e)
	s2.e.Feed([]byte{23, 3, 3, 0x48, 0x01})
	s2.e.Feed(make([]byte, 0x4801))
	_, err := s2.e.Read(make([]byte, 64))
	if err == nil || errors.Is(err, ssl.ErrWantRead) {
		t.Fatalf("oversized record: %v", err)
	}
	if !s2.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertRecordOverflow) {
		t.Errorf("no record_overflow alert: %v (%v)", s2.hooks.alertList(), err)
	}
	// The alert reaches the client.
	move(s2.e, c2.e, 0)
	if _, err := c2.e.Read(make([]byte, 64)); err == nil || !c2.hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertRecordOverflow) {
		t.Errorf("client: %v %v", err, c2.hooks.alertList())
	}
	// After a fatal alert no close_notify is queued.
	if err := s2.e.Shutdown(); err == nil || s2.e.PendingOutput() != 0 {
		t.Errorf("Shutdown after a fatal alert: %v, %d bytes", err, s2.e.PendingOutput())
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackendTellsTheTruth(t *testing.T) {
	b := backend{}
	names := map[string]bool{}
	for _, c := range b.SupportedCiphers() {
		names[c.Name()] = true
	}
	for _, want := range []string{"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"} {
		if !names[want] {
			t.Errorf("SupportedCiphers lacks %s: %v", want, names)
		}
	}
	curves := map[string]bool{}
	for _, c := range b.SupportedEllipticCurves() {
		curves[c.ShortName()] = true
	}
	for _, want := range []string{"prime256v1", "secp384r1", "secp521r1", "X25519", "X448"} {
		if !curves[want] {
			t.Errorf("SupportedEllipticCurves lacks %s: %v", want, curves)
		}
	}
	if b.LibraryVersionNumber() != versionNumber || !strings.HasPrefix(b.LibraryVersionString(), "OpenSSL 3.") {
		t.Errorf("version %#x %q", b.LibraryVersionNumber(), b.LibraryVersionString())
	}
	level := defaultSecurityLevel()
	has10 := slices.Contains(b.SupportedProtocols(), ssl.TlsV1_0)
	if level < 0 || has10 != (level == 0) || !slices.Contains(b.SupportedProtocols(), ssl.TlsV1_3) {
		t.Errorf("security level %d, protocols %v", level, b.SupportedProtocols())
	}
	// Every protocol listed negotiates against a server allowing everything.
	p := newTestPKI(t)
	scfg := p.serverConfig(p.server)
	scfg.SetProtocol(ssl.AnyProtocol)
	for _, proto := range b.SupportedProtocols() {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		c, s := p.pair(t, ccfg, scfg)
		if cerr, serr := handshake(c.e, s.e, 0); cerr != nil || serr != nil {
			t.Errorf("%v: %v %v", proto, cerr, serr)
		}
	}
}

// TestNoCloseNotifyAfterAFatalAlert: a corrupted record makes the server
// send bad_record_mac; its Shutdown then queues nothing more.
func TestNoCloseNotifyAfterAFatalAlert(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		ccfg := p.clientConfig()
		ccfg.SetProtocol(proto)
		c, s := p.pair(t, ccfg, p.serverConfig(p.server))
		mustHandshake(t, c.e, s.e)
		transfer(t, s.e, c.e, []byte("tickets first"))
		c.e.Write([]byte("hello"))
		buf := make([]byte, c.e.PendingOutput())
		c.e.TakeOutput(buf)
		buf[len(buf)-1] ^= 0x80
		s.e.Feed(buf)
		if _, err := s.e.Read(make([]byte, 10)); err == nil || errors.Is(err, ssl.ErrWantRead) {
			t.Fatalf("%v: corrupted record: %v", proto, err)
		}
		if !s.hooks.hasAlert(true, ssl.AlertLevelFatal, ssl.AlertBadRecordMac) {
			t.Errorf("%v: alerts %v", proto, s.hooks.alertList())
		}
		pending := s.e.PendingOutput()
		if err := s.e.Shutdown(); err == nil || s.e.PendingOutput() != pending {
			t.Errorf("%v: Shutdown after the fatal alert: %v, output %d → %d", proto, err, pending, s.e.PendingOutput())
		}
		out := make([]byte, pending)
		s.e.TakeOutput(out)
		if records := countRecords(out); records != 1 {
			t.Errorf("%v: %d records after the corrupted one, want the alert alone", proto, records)
		}
	}
}

func countRecords(b []byte) int {
	n := 0
	for len(b) >= 5 {
		l := int(b[3])<<8 | int(b[4])
		if len(b) < 5+l {
			break
		}
		n++
		b = b[5+l:]
	}
	return n
}

// TestCipherTableMatchesLibssl: every suite libssl knows (ALL and
// COMPLEMENTOFALL at security level 0, and the five TLS 1.3 suites) has a
// Cipher in package ssl whose fields are SSL_CIPHER_description's and
// SSL_CIPHER_get_bits's, as Qt reads them.
func TestCipherTableMatchesLibssl(t *testing.T) {
	suites := libsslCipherDescriptions("ALL:COMPLEMENTOFALL:@SECLEVEL=0", tls13Suites)
	for _, d := range suites {
		f := strings.Fields(d.description)
		c := ssl.CipherFromID(d.id)
		if c.IsNull() || len(f) < 5 {
			t.Errorf("no Cipher for %#04x %v", d.id, f)
			continue
		}
		got := []string{c.Name(), c.ProtocolString(), "Kx=" + c.KeyExchangeMethod(), "Au=" + c.AuthenticationMethod(), "Enc=" + c.EncryptionMethod()}
		if strings.Join(got, " ") != strings.Join(f[:5], " ") || c.UsedBits() != d.used || c.SupportedBits() != d.alg {
			t.Errorf("ours   %v %d/%d\nlibssl %v %d/%d", got, c.UsedBits(), c.SupportedBits(), f[:5], d.used, d.alg)
		}
		if !ssl.CipherByName(c.Name()).Equal(c) || c.IANAName() == "" || !ssl.CipherByName(c.IANAName()).Equal(c) {
			t.Errorf("%s: lookup by name or IANA name %q", c.Name(), c.IANAName())
		}
	}
	if len(suites) < 150 {
		t.Errorf("libssl listed only %d suites", len(suites))
	}
}

// TestLoadFirstSaysWhy: no loadable pair leaves the process as it was and
// says why for each candidate; the environment's pair is honoured.
func TestLoadFirstSaysWhy(t *testing.T) {
	err := loadFirst([]libraryPair{{"libcrypto-none.so.3", "libssl-none.so.3"}, {"/nonexistent/libcrypto.so.3", "/nonexistent/libssl.so.3"}})
	if err == nil || !strings.Contains(err.Error(), "libcrypto-none.so.3") || !strings.Contains(err.Error(), "/nonexistent/libcrypto.so.3") {
		t.Errorf("%v", err)
	}
	if err := loadFirst(nil); err == nil || !strings.Contains(err.Error(), envLibcrypto) {
		t.Errorf("no candidates: %v", err)
	}
	// The real pair, again: already loaded, still fine.
	if err := loadFirst(libraryCandidates("linux", func(string) string { return "" })); err != nil {
		t.Error(err)
	}
	if !Available() {
		t.Error("the backend must stay available")
	}
}
