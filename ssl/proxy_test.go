package ssl

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// testSocks5 is a minimal SOCKS5 proxy (RFC 1928, CONNECT only) with
// optional username/password authentication (RFC 1929).
func testSocks5(t *testing.T, user, pass string) uint16 {
	t.Helper()
	return serveLoopback(t, func(c net.Conn) { socks5Serve(c, user, pass) })
}

func socks5Serve(c net.Conn, user, pass string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 262)
	if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 {
		return
	}
	methods := make([]byte, buf[1])
	io.ReadFull(c, methods)
	want := byte(0)
	if user != "" {
		want = 2
	}
	c.Write([]byte{5, want})
	if want == 2 {
		io.ReadFull(c, buf[:2])
		u := make([]byte, buf[1])
		io.ReadFull(c, u)
		io.ReadFull(c, buf[:1])
		p := make([]byte, buf[0])
		io.ReadFull(c, p)
		if string(u) != user || string(p) != pass {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	}
	if _, err := io.ReadFull(c, buf[:4]); err != nil {
		return
	}
	var host string
	switch buf[3] {
	case 1:
		io.ReadFull(c, buf[:4])
		host = net.IP(buf[:4]).String()
	case 3:
		io.ReadFull(c, buf[:1])
		n := int(buf[0])
		io.ReadFull(c, buf[:n])
		host = string(buf[:n])
	case 4:
		io.ReadFull(c, buf[:16])
		host = net.IP(buf[:16]).String()
	}
	io.ReadFull(c, buf[:2])
	port := binary.BigEndian.Uint16(buf[:2])
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
	c.SetDeadline(time.Time{})
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
}

// testHTTPProxy is a minimal HTTP CONNECT proxy; status overrides the reply.
func testHTTPProxy(t *testing.T, status int, user, pass string) uint16 {
	t.Helper()
	return serveLoopback(t, func(c net.Conn) { httpProxyServe(c, status, user, pass) })
}

func httpProxyServe(c net.Conn, status int, user, pass string) {
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil || req.Method != "CONNECT" {
		return
	}
	if status == -1 {
		c.Write([]byte("garbage\r\n\r\n"))
		return
	}
	if user != "" {
		u, p, ok := (&http.Request{Header: http.Header{"Authorization": req.Header["Proxy-Authorization"]}}).BasicAuth()
		if !ok || u != user || p != pass {
			c.Write([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"))
			return
		}
	}
	if status != 200 {
		fmt.Fprintf(c, "HTTP/1.1 %d %s\r\n\r\n", status, http.StatusText(status))
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
		return
	}
	defer up.Close()
	c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
}

func TestProxies(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	port := startServer(t, p.serverConfig(p.server), echo)
	closedPort := uint16(freePort(t))
	tests := []struct {
		name  string
		proxy Proxy
		ok    bool
		kind  SocketError
	}{
		{"SOCKS5", Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: testSocks5(t, "", "")}, true, 0},
		{"SOCKS5 with authentication", Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: testSocks5(t, "alice", "s3cret"), User: "alice", Password: "s3cret"}, true, 0},
		{"SOCKS5, wrong password", Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: testSocks5(t, "alice", "s3cret"), User: "alice", Password: "nope"}, false, ProxyAuthenticationRequiredError},
		{"SOCKS5, nobody listening", Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: closedPort}, false, ProxyConnectionRefusedError},
		{"HTTP CONNECT", Proxy{Type: HttpProxy, HostName: "127.0.0.1", Port: testHTTPProxy(t, 200, "", "")}, true, 0},
		{"HTTP CONNECT with authentication", Proxy{Type: HttpProxy, HostName: "127.0.0.1", Port: testHTTPProxy(t, 200, "bob", "pw"), User: "bob", Password: "pw"}, true, 0},
		{"HTTP CONNECT, 407", Proxy{Type: HttpProxy, HostName: "127.0.0.1", Port: testHTTPProxy(t, 200, "bob", "pw")}, false, ProxyAuthenticationRequiredError},
		{"HTTP CONNECT, 403", Proxy{Type: HttpProxy, HostName: "127.0.0.1", Port: testHTTPProxy(t, 403, "", "")}, false, ProxyConnectionRefusedError},
		{"HTTP CONNECT, garbage reply", Proxy{Type: HttpProxy, HostName: "127.0.0.1", Port: testHTTPProxy(t, -1, "", "")}, false, ProxyProtocolError},
		{"proxy host not found", Proxy{Type: HttpProxy, HostName: "no-such-proxy.invalid", Port: 3128}, false, ProxyNotFoundError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSocket()
			defer s.Close()
			s.SetSslConfiguration(p.clientConfig())
			s.SetProxy(tc.proxy)
			s.ConnectToHostEncrypted("localhost", port)
			ok := s.WaitForEncrypted(10 * time.Second)
			if ok != tc.ok {
				t.Fatalf("encrypted %v, want %v (%v: %s)", ok, tc.ok, s.SocketError(), s.ErrorString())
			}
			if ok {
				s.Write([]byte("through the proxy\n"))
				line, err := bufio.NewReader(s).ReadString('\n')
				if err != nil || line != "through the proxy\n" {
					t.Errorf("echo %q %v", line, err)
				}
			} else if s.SocketError() != tc.kind {
				t.Errorf("error %v (%s), want %v", s.SocketError(), s.ErrorString(), tc.kind)
			}
		})
	}
	// The application proxy applies to DefaultProxy sockets.
	SetApplicationProxy(Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: closedPort})
	defer SetApplicationProxy(Proxy{Type: NoProxy})
	s := NewSocket()
	s.ConnectToHostEncrypted("localhost", port)
	if s.WaitForEncrypted(5*time.Second) || s.SocketError() != ProxyConnectionRefusedError {
		t.Errorf("application proxy not used: %v", s.SocketError())
	}
	s.Close()
}

func TestParseProxyURL(t *testing.T) {
	p, err := ParseProxyURL("socks5://u:p@127.0.0.1:1080")
	if err != nil || p.Type != Socks5Proxy || p.Port != 1080 || p.User != "u" || p.Password != "p" {
		t.Errorf("%+v %v", p, err)
	}
	if p, err := ParseProxyURL("http://proxy:3128"); err != nil || p.Type != HttpProxy || p.HostName != "proxy" {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range []string{"ftp://x:1", "http://noport", "::"} {
		if _, err := ParseProxyURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
