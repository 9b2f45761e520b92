//go:build cgo && linux

package openssl

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// Interop with the openssl command on 127.0.0.1: our engine driven over a
// TCP connection against `openssl s_server`, and `openssl s_client`
// against our engine.

func opensslCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("the openssl command is required for interop tests (Debian package openssl)")
	}
	return p
}

// pkiDir writes root.pem, server.pem/.key and client.pem/.key.
func (p *testPKI) dir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), p.root.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.server.WriteFiles(dir, "server"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.client.WriteFiles(dir, "client"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sServer starts `openssl s_server` on a free loopback port; it returns the
// port and a function that returns what s_server printed so far.
func sServer(t *testing.T, dir string, args ...string) (port int, output func() string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, opensslCommand(t), append([]string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port)}, args...)...)
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "ACCEPT") {
				once = true
				close(ready)
			}
			select {
			case lines <- sc.Text():
			default:
			}
		}
		if !once {
			close(ready)
		}
		close(lines)
	}()
	t.Cleanup(func() { stdin.Close(); cancel(); _ = cmd.Wait() })
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("s_server did not start")
	}
	var seen []string
	return port, func() string {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return strings.Join(seen, "\n")
				}
				seen = append(seen, l)
			default:
				return strings.Join(seen, "\n")
			}
		}
	}
}

// sClient runs `openssl s_client` against port with input on stdin.
func sClient(t *testing.T, dir string, port int, input string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, opensslCommand(t), append([]string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-ign_eof"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(input)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// driver runs an engine over a connection: the seed's loop with a socket.
type driver struct {
	conn net.Conn
	e    *engine
	in   []byte
	out  []byte
}

func newDriver(t testing.TB, conn net.Conn, e *engine) *driver {
	// The deadline only keeps a broken test from hanging; nothing is timed.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &driver{conn: conn, e: e, in: make([]byte, 16<<10), out: make([]byte, ssl.MaxPendingOutput)}
}

func (d *driver) flush() error {
	for {
		n := d.e.TakeOutput(d.out)
		if n == 0 {
			return nil
		}
		if _, err := d.conn.Write(d.out[:n]); err != nil {
			return err
		}
	}
}

// fill feeds what the connection has (EOF included).
func (d *driver) fill() error {
	n, err := d.conn.Read(d.in)
	d.e.Feed(d.in[:n])
	if errors.Is(err, io.EOF) {
		d.e.FeedEOF()
		return nil
	}
	return err
}

func (d *driver) handshake() error {
	for {
		err := d.e.Handshake()
		if ferr := d.flush(); ferr != nil && err == nil {
			err = ferr
		}
		if !errors.Is(err, ssl.ErrWantRead) {
			return err
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
}

func (d *driver) Read(p []byte) (int, error) {
	for {
		n, err := d.e.Read(p)
		d.flush()
		if !errors.Is(err, ssl.ErrWantRead) {
			return n, err
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
}

func (d *driver) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := d.e.Write(p)
		total += n
		p = p[n:]
		if ferr := d.flush(); ferr != nil {
			return total, ferr
		}
		if err != nil && !errors.Is(err, ssl.ErrWantWrite) {
			return total, err
		}
	}
	return total, nil
}

func (d *driver) readLine() (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := d.Read(b); err != nil {
			return string(line), err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			return string(line), nil
		}
	}
}

// dial connects a client engine to port.
func dial(t *testing.T, port int, cfg ssl.Configuration, hooks *testHooks) *driver {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	return newDriver(t, conn, mustEngine(t, false, cfg, hooks, "localhost"))
}

// serveOnce accepts one connection with a server engine and runs fn on it.
func serveOnce(t *testing.T, cfg ssl.Configuration, hooks *testHooks, fn func(d *driver)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := l.Accept()
		l.Close()
		if err != nil {
			return
		}
		e, err := newEngine(ssl.SessionParams{Server: true, Config: cfg, Hooks: hooks, WantsPreSharedKey: hooks.psk13})
		if err != nil {
			t.Error(err)
			conn.Close()
			return
		}
		defer e.Close()
		fn(newDriver(t, conn, e))
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().(*net.TCPAddr).Port
}

// echoUpper serves one line back in upper case.
func echoUpper(t *testing.T) func(d *driver) {
	return func(d *driver) {
		if err := d.handshake(); err != nil {
			t.Errorf("server handshake: %v", err)
			return
		}
		line, err := d.readLine()
		if err != nil {
			t.Errorf("server read: %v", err)
			return
		}
		d.Write([]byte(strings.ToUpper(line)))
		d.e.Shutdown()
		d.flush()
	}
}

func TestInteropWithSServer(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	for _, proto := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(proto, func(t *testing.T) {
			port, _ := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", proto)
			hooks := &testHooks{verify: verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)}
			d := dial(t, port, p.clientConfig(), hooks)
			if err := d.handshake(); err != nil {
				t.Fatal(err)
			}
			d.Write([]byte("hello\n"))
			if line, err := d.readLine(); line != "olleh\n" {
				t.Errorf("reversed echo %q %v", line, err)
			}
		})
	}
}

func TestInteropPSK(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	key := hex.EncodeToString(testPSK)
	for _, proto := range bothVersions {
		flag := map[ssl.Protocol]string{ssl.TlsV1_2: "-tls1_2", ssl.TlsV1_3: "-tls1_3"}[proto]
		t.Run(proto.String()+"/s_server", func(t *testing.T) {
			port, output := sServer(t, dir, "-nocert", "-psk", key, "-psk_identity", "client1", "-psk_hint", "H", "-rev", flag)
			ccfg, _ := pskConfigs(proto)
			hooks := &testHooks{psk13: proto == ssl.TlsV1_3, psk: func(a *ssl.PreSharedKeyAuthenticator) error {
				a.SetIdentity([]byte("client1"))
				a.SetPreSharedKey(testPSK)
				return nil
			}}
			d := dial(t, port, ccfg, hooks)
			if err := d.handshake(); err != nil {
				t.Fatalf("%v\n%s", err, output())
			}
			d.Write([]byte("psk\n"))
			if line, err := d.readLine(); line != "ksp\n" {
				t.Errorf("echo %q %v", line, err)
			}
			if proto == ssl.TlsV1_2 && (len(hooks.pskCalls) != 1 || string(hooks.pskCalls[0].hint) != "H") {
				t.Errorf("authenticator %+v", hooks.pskCalls)
			}
		})
		t.Run(proto.String()+"/s_client", func(t *testing.T) {
			_, scfg := pskConfigs(proto)
			hooks := &testHooks{psk13: proto == ssl.TlsV1_3, psk: func(a *ssl.PreSharedKeyAuthenticator) error {
				if string(a.Identity()) == "client1" {
					a.SetPreSharedKey(testPSK)
				}
				return nil
			}}
			port := serveOnce(t, scfg, hooks, echoUpper(t))
			out := sClient(t, dir, port, "psk\n", "-psk", key, "-psk_identity", "client1", flag)
			if !strings.Contains(out, "PSK\n") {
				t.Errorf("s_client output:\n%s", out)
			}
			if proto == ssl.TlsV1_2 && !strings.Contains(out, "PSK identity hint: H") {
				t.Errorf("hint not received:\n%s", out)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		port, _ := sServer(t, dir, "-nocert", "-psk", "00112233445566778899aabbccddeeff", "-psk_hint", "H", "-tls1_2")
		ccfg, _ := pskConfigs(ssl.TlsV1_2)
		hooks := &testHooks{psk: func(a *ssl.PreSharedKeyAuthenticator) error {
			a.SetIdentity([]byte("client1"))
			a.SetPreSharedKey(testPSK)
			return nil
		}}
		d := dial(t, port, ccfg, hooks)
		err := d.handshake()
		var oe *Error
		if !errors.As(err, &oe) || !hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertDecryptError) && !hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertBadRecordMac) {
			t.Errorf("wrong key: %v, alerts %v", err, hooks.alertList())
		}
	})
}

func TestInteropDHEAndStatus(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	// s_server with -dhparam: our client negotiates DHE.
	rsa := p.root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, Key: pki.RSA2048})
	if _, _, err := rsa.WriteFiles(dir, "rsa"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dh.pem"), ssl.DefaultDiffieHellmanParameters().ToPem(), 0o644); err != nil {
		t.Fatal(err)
	}
	port, _ := sServer(t, dir, "-cert", "rsa.pem", "-key", "rsa.key", "-dhparam", "dh.pem", "-rev", "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384")
	hooks := &testHooks{verify: verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)}
	d := dial(t, port, p.clientConfig(), hooks)
	if err := d.handshake(); err != nil {
		t.Fatal(err)
	}
	if name := d.e.cipherName(); name != "DHE-RSA-AES256-GCM-SHA384" {
		t.Errorf("cipher %q", name)
	}
	// -status_file: the stapled response reaches VerifyPeer (TLS 1.2 and 1.3).
	staple := []byte{0x30, 0x03, 0x0a, 0x01, 0x06} // OCSPResponse{responseStatus: unauthorized}
	if err := os.WriteFile(filepath.Join(dir, "resp.der"), staple, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"-tls1_2", "-tls1_3"} {
		port, _ := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-status_file", "resp.der", "-rev", flag)
		ccfg := p.clientConfig()
		ccfg.SetOcspStaplingEnabled(true)
		hooks := &testHooks{}
		d := dial(t, port, ccfg, hooks)
		if err := d.handshake(); err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		if len(hooks.verifyCalls) != 1 || string(hooks.verifyCalls[0].ocsp) != string(staple) {
			t.Errorf("%s: VerifyPeer calls %v", flag, hooks.verifyCalls)
		}
	}
	// s_client -status against our stapling server.
	scfg := p.serverConfig(p.server)
	scfg.SetOcspStaple(staple)
	sport := serveOnce(t, scfg, &testHooks{}, echoUpper(t))
	out := sClient(t, dir, sport, "q\n", "-status", "-CAfile", "root.pem")
	if !strings.Contains(out, "OCSP Response Status: unauthorized (0x6)") {
		t.Errorf("s_client -status:\n%s", out)
	}
}

func TestInteropALPNAndClientCertificates(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	// Against s_server -alpn: the server picks (OpenSSL: its own order).
	port, _ := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-alpn", "h2,http/1.1", "-rev")
	ccfg := p.clientConfig()
	ccfg.SetAllowedNextProtocols([]string{"http/1.1", "h2"})
	d := dial(t, port, ccfg, &testHooks{})
	if err := d.handshake(); err != nil {
		t.Fatal(err)
	}
	if st := d.e.State(); st.ALPN != "h2" || st.ALPNStatus != ssl.NextProtocolNegotiationNegotiated {
		t.Errorf("ALPN %q %v", st.ALPN, st.ALPNStatus)
	}
	// s_client -alpn against our server: the client's order wins (Qt).
	scfg := p.serverConfig(p.server)
	scfg.SetAllowedNextProtocols([]string{"x-custom", "h2"})
	sport := serveOnce(t, scfg, &testHooks{}, echoUpper(t))
	if out := sClient(t, dir, sport, "q\n", "-alpn", "h2,x-custom", "-CAfile", "root.pem"); !strings.Contains(out, "ALPN protocol: h2") {
		t.Errorf("s_client -alpn:\n%s", out)
	}
	// s_server -Verify: a client certificate is required.
	for _, withCert := range []bool{true, false} {
		port, _ := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-Verify", "2", "-CAfile", "root.pem", "-rev", "-tls1_2")
		ccfg := p.clientConfig()
		if withCert {
			ccfg.SetLocalCertificate(certOf(p.client))
			ccfg.SetPrivateKey(ssl.NewKey(p.client.Key))
		}
		hooks := &testHooks{}
		d := dial(t, port, ccfg, hooks)
		err := d.handshake()
		if err == nil {
			d.Write([]byte("abc\n"))
			var line string
			line, err = d.readLine()
			if err == nil && line != "cba\n" {
				err = fmt.Errorf("echo %q", line)
			}
		}
		if (err == nil) != withCert {
			t.Errorf("-Verify with certificate %v: %v", withCert, err)
		}
		if !withCert && !hooks.hasAlert(false, ssl.AlertLevelFatal, ssl.AlertHandshakeFailure) {
			t.Errorf("alerts %v", hooks.alertList())
		}
	}
}

func TestInteropSessionsWithOpenSSL(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	for _, flag := range []string{"-tls1_2", "-tls1_3"} {
		// s_client -sess_out then -sess_in against our server (shared context).
		scfg := p.serverConfig(p.server)
		var outs []string
		for _, sess := range []string{"-sess_out", "-sess_in"} {
			port := serveOnce(t, scfg, &testHooks{}, echoUpper(t))
			outs = append(outs, sClient(t, dir, port, "q\n", sess, "sess.pem", "-CAfile", "root.pem", flag))
		}
		if !strings.Contains(outs[0], "New, ") || !strings.Contains(outs[1], "Reused, ") {
			t.Errorf("%s: s_client -sess_in was not resumed:\n%s\n----\n%s", flag, outs[0], outs[1])
		}
		// Our client resuming against s_server.
		port, _ := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", flag)
		ccfg := p.clientConfig()
		ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
		hooks := &testHooks{}
		d := dial(t, port, ccfg, hooks)
		if err := d.handshake(); err != nil {
			t.Fatal(err)
		}
		d.Write([]byte("a\n"))
		d.readLine() // TLS 1.3 tickets come with the first read
		if len(hooks.tickets) == 0 {
			t.Fatalf("%s: no ticket from s_server", flag)
		}
		d.e.Shutdown()
		d.flush()
		d.conn.Close() // s_server serves one connection at a time
		ccfg.SetSessionTicket(hooks.tickets[len(hooks.tickets)-1])
		d2 := dial(t, port, ccfg, &testHooks{})
		if err := d2.handshake(); err != nil || !d2.e.State().Resumed {
			t.Errorf("%s: resumption against s_server: %v resumed %v", flag, err, d2.e.State().Resumed)
		}
	}
}

// TestInteropPSKHandlerWithoutKeyTLS13: a side that wants a TLS 1.3
// external PSK but whose application sets no key completes a certificate
// handshake with openssl: our client offers no PSK to s_server; our server
// finds no session for s_client's PSK, and certificates go on.
func TestInteropPSKHandlerWithoutKeyTLS13(t *testing.T) {
	p := newTestPKI(t)
	dir := p.dir(t)
	noKey := func(*ssl.PreSharedKeyAuthenticator) error { return ssl.ErrNoPreSharedKey }
	t.Run("s_server", func(t *testing.T) {
		port, output := sServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", "-tls1_3")
		cfg := p.clientConfig()
		cfg.SetProtocol(ssl.TlsV1_3)
		hooks := &testHooks{psk13: true, psk: noKey, verify: verifyAs([]ssl.Certificate{certOf(p.root)}, "localhost", ssl.PurposeServerAuth)}
		d := dial(t, port, cfg, hooks)
		if err := d.handshake(); err != nil {
			t.Fatalf("%v\n%s", err, output())
		}
		d.Write([]byte("hello\n"))
		if line, err := d.readLine(); line != "olleh\n" {
			t.Errorf("reversed echo %q %v", line, err)
		}
		if len(hooks.pskCalls) != 1 || len(hooks.verifyCalls) != 1 || len(hooks.verifyCalls[0].chain) == 0 {
			t.Errorf("asked %d times, verified %d times", len(hooks.pskCalls), len(hooks.verifyCalls))
		}
	})
	t.Run("s_client", func(t *testing.T) {
		cfg := p.serverConfig(p.server)
		cfg.SetProtocol(ssl.TlsV1_3)
		hooks := &testHooks{psk13: true, psk: noKey}
		port := serveOnce(t, cfg, hooks, echoUpper(t))
		out := sClient(t, dir, port, "cert\n", "-psk", hex.EncodeToString(testPSK), "-psk_identity", "client1", "-tls1_3", "-CAfile", "root.pem")
		if !strings.Contains(out, "CERT\n") || !strings.Contains(out, "Verify return code: 0 (ok)") {
			t.Errorf("s_client output:\n%s", out)
		}
		if len(hooks.pskCalls) != 1 || string(hooks.pskCalls[0].identity) != "client1" {
			t.Errorf("authenticator %+v", hooks.pskCalls)
		}
	})
}
