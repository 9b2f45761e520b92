package ssl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// pkiFiles writes the test PKI to dir: root.pem, server.pem/.key, client.pem/.key.
func pkiFiles(t *testing.T, p *testPKI) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), p.root.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*pki.Cert{"server": p.server, "client": p.client} {
		if _, _, err := c.WriteFiles(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// opensslServer starts `openssl s_server` with args and returns its port.
func opensslServer(t *testing.T, dir string, args ...string) uint16 {
	t.Helper()
	openssl := requireOpenSSL(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, openssl, append([]string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port)}, args...)...)
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cancel(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "ACCEPT") {
				once = true
				close(ready)
			}
		}
		if !once {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("s_server did not start")
	}
	return uint16(port)
}

func TestInteropClientAgainstOpenSSLServer(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		for _, proto := range []struct {
			flag string
			want Protocol
		}{{"-tls1_2", TlsV1_2}, {"-tls1_3", TlsV1_3}} {
			t.Run(proto.flag, func(t *testing.T) {
				port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", proto.flag)
				s := NewSocket()
				defer s.Abort()
				s.SetSslConfiguration(p.clientConfig())
				s.ConnectToHostEncrypted("localhost", port)
				if !s.WaitForEncrypted(10 * time.Second) {
					t.Fatalf("handshake: %s", s.ErrorString())
				}
				if s.SessionProtocol() != proto.want {
					t.Errorf("protocol %v, want %v", s.SessionProtocol(), proto.want)
				}
				s.Write([]byte("hello\n"))
				r := bufio.NewReader(s)
				line, err := r.ReadString('\n')
				if err != nil || line != "olleh\n" {
					t.Errorf("reversed echo: %q %v", line, err)
				}
			})
		}
		t.Run("verify errors", func(t *testing.T) {
			self := pki.MustSelfSigned(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
			if _, _, err := self.WriteFiles(dir, "self"); err != nil {
				t.Fatal(err)
			}
			port := opensslServer(t, dir, "-cert", "self.pem", "-key", "self.key", "-rev")
			s := NewSocket()
			defer s.Abort()
			s.SetSslConfiguration(p.clientConfig())
			var got []Error
			s.OnSslErrors(func(errs []Error) { got = errs })
			s.ConnectToHostEncrypted("localhost", port)
			if s.WaitForEncrypted(10 * time.Second) {
				t.Fatal("a self-signed server was accepted")
			}
			if len(got) != 1 || !got[0].Equal(NewError(SelfSignedCertificate, certOf(self))) {
				t.Errorf("sslErrors = %v", got)
			}
		})
		t.Run("client certificate required", func(t *testing.T) {
			port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", "-Verify", "2", "-CAfile", "root.pem", "-tls1_2")
			for _, withCert := range []bool{true, false} {
				s := NewSocket()
				cfg := p.clientConfig()
				if withCert {
					cfg.SetLocalCertificate(certOf(p.client))
					cfg.SetPrivateKey(NewKey(p.client.Key))
				}
				s.SetSslConfiguration(cfg)
				s.ConnectToHostEncrypted("localhost", port)
				ok := s.WaitForEncrypted(10 * time.Second)
				if ok {
					s.Write([]byte("abc\n"))
					line, err := bufio.NewReader(s).ReadString('\n')
					ok = err == nil && line == "cba\n"
				}
				if ok != withCert {
					t.Errorf("with certificate %v: worked %v (%s)", withCert, ok, s.ErrorString())
				}
				s.Abort()
			}
		})
	})
}

// sClient runs `openssl s_client` against our server with input on stdin.
func sClient(t *testing.T, dir string, port uint16, input string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireOpenSSL(t), append([]string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-ign_eof"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(input)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// lineEchoServer echoes one line back in upper case, then closes.
func lineEchoServer(s *Socket) {
	if !s.WaitForEncrypted(10 * time.Second) {
		return
	}
	line, err := bufio.NewReader(s).ReadString('\n')
	if err == nil {
		s.Write([]byte(strings.ToUpper(line)))
	}
}

func TestInteropServerAgainstOpenSSLClient(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		for _, flag := range []string{"-tls1_2", "-tls1_3"} {
			port := startServer(t, p.serverConfig(p.server), lineEchoServer)
			out := sClient(t, dir, port, "ping\n", "-CAfile", "root.pem", "-verify_return_error", "-servername", "localhost", flag)
			if !strings.Contains(out, "PING") || !strings.Contains(out, "Verify return code: 0 (ok)") {
				t.Errorf("%s: s_client output:\n%s", flag, out)
			}
		}
		// Client certificates: VerifyPeer requires one; the peer chain is visible.
		cfg := p.serverConfig(p.server)
		cfg.SetPeerVerifyMode(VerifyPeer)
		peer := make(chan Certificate, 2)
		port := startServer(t, cfg, func(s *Socket) {
			if s.WaitForEncrypted(10 * time.Second) {
				peer <- s.PeerCertificate()
			} else {
				peer <- Certificate{}
			}
			lineEchoServer(s)
		})
		sClient(t, dir, port, "x\n", "-CAfile", "root.pem", "-cert", "client.pem", "-key", "client.key")
		if c := <-peer; !c.Equal(certOf(p.client)) {
			t.Errorf("server saw client certificate %q", c.SubjectDisplayName())
		}
		sClient(t, dir, port, "x\n", "-CAfile", "root.pem")
		if c := <-peer; !c.IsNull() {
			t.Error("VerifyPeer server accepted a client without a certificate")
		}
	})
}

// TestInteropStartTLSSMTP serves SMTP's STARTTLS to `openssl s_client
// -starttls smtp`: a plain Socket that later starts server encryption.
func TestInteropStartTLSSMTP(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		result := make(chan error, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				result <- err
				return
			}
			s := NewSocketFromConn(c)
			defer s.Close()
			s.SetSslConfiguration(p.serverConfig(p.server))
			r := bufio.NewReader(s)
			s.Write([]byte("220 localhost ESMTP test\r\n"))
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					result <- err
					return
				}
				cmd := strings.ToUpper(strings.TrimSpace(line))
				switch {
				case strings.HasPrefix(cmd, "EHLO"):
					s.Write([]byte("250-localhost\r\n250 STARTTLS\r\n"))
				case cmd == "STARTTLS":
					s.Write([]byte("220 2.0.0 Ready to start TLS\r\n"))
					if r.Buffered() > 0 {
						result <- errors.New("client sent data before the TLS handshake")
						return
					}
					if err := s.StartServerEncryption(); err != nil {
						result <- err
						return
					}
					if !s.WaitForEncrypted(10 * time.Second) {
						result <- errors.New(s.ErrorString())
						return
					}
					tr := bufio.NewReader(s)
					line, err := tr.ReadString('\n')
					if err == nil && strings.HasPrefix(strings.ToUpper(line), "QUIT") {
						s.Write([]byte("221 Bye\r\n"))
					}
					result <- err
					return
				default:
					s.Write([]byte("500 unknown\r\n"))
				}
			}
		}()
		port := uint16(l.Addr().(*net.TCPAddr).Port)
		out := sClient(t, dir, port, "QUIT\r\n", "-starttls", "smtp", "-CAfile", "root.pem", "-verify_return_error", "-crlf")
		if err := <-result; err != nil {
			t.Fatalf("server: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Verify return code: 0 (ok)") || !strings.Contains(out, "221 Bye") {
			t.Errorf("s_client output:\n%s", out)
		}
	})
}

// TestInteropPython uses Python's ssl module as an independent client.
func TestInteropPython(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		python, err := exec.LookPath("python3")
		if err != nil {
			t.Fatal("python3 is required for interop tests")
		}
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		port := startServer(t, p.serverConfig(p.server), lineEchoServer)
		script := fmt.Sprintf(`
import socket, ssl
ctx = ssl.create_default_context(cafile="root.pem")
with socket.create_connection(("127.0.0.1", %d)) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"from python\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        print(s.version(), data.decode().strip())
`, port)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, python, "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "TLSv1.3 FROM PYTHON" {
			t.Errorf("python client: %v\n%s", err, out)
		}
	})
}
