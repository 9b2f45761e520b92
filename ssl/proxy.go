package ssl

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/net/proxy"
)

// ProxyType is QNetworkProxy::ProxyType, for the kinds that carry TCP.
type ProxyType int

// ProxyType values.
const (
	DefaultProxy ProxyType = 0 // use the application proxy (SetApplicationProxy)
	Socks5Proxy  ProxyType = 1
	NoProxy      ProxyType = 2
	HttpProxy    ProxyType = 3 // HTTP CONNECT tunnelling
)

var proxyTypeNames = newEnumTable("ProxyType", map[ProxyType]string{
	DefaultProxy: "DefaultProxy", Socks5Proxy: "Socks5Proxy", NoProxy: "NoProxy", HttpProxy: "HttpProxy",
})

// Proxy is QNetworkProxy: how a Socket reaches its peer. The zero Proxy
// is DefaultProxy, which means the application proxy (NoProxy unless set).
type Proxy struct {
	Type     ProxyType
	HostName string
	Port     uint16
	User     string
	Password string
}

// ParseProxyURL reads "socks5://user:pass@host:port" or "http://host:port".
func ParseProxyURL(s string) (Proxy, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Proxy{}, err
	}
	var p Proxy
	switch u.Scheme {
	case "socks5", "socks5h":
		p.Type = Socks5Proxy
	case "http":
		p.Type = HttpProxy
	default:
		return Proxy{}, fmt.Errorf("ssl: unsupported proxy scheme %q (socks5 or http)", u.Scheme)
	}
	p.HostName = u.Hostname()
	port, err := strconv.ParseUint(u.Port(), 10, 16)
	if err != nil || port == 0 {
		return Proxy{}, fmt.Errorf("ssl: proxy URL %q needs a port", s)
	}
	p.Port = uint16(port)
	if u.User != nil {
		p.User = u.User.Username()
		p.Password, _ = u.User.Password()
	}
	return p, nil
}

var appProxy struct {
	mu sync.Mutex
	p  Proxy
}

// SetApplicationProxy sets the process-wide proxy that DefaultProxy means
// (QNetworkProxy::setApplicationProxy).
func SetApplicationProxy(p Proxy) {
	appProxy.mu.Lock()
	defer appProxy.mu.Unlock()
	if p.Type == DefaultProxy {
		p.Type = NoProxy
	}
	appProxy.p = p
}

// ApplicationProxy returns the process-wide proxy (NoProxy by default).
func ApplicationProxy() Proxy {
	appProxy.mu.Lock()
	defer appProxy.mu.Unlock()
	if appProxy.p.Type == DefaultProxy {
		return Proxy{Type: NoProxy}
	}
	return appProxy.p
}

// Proxy returns the socket's proxy.
func (s *Socket) Proxy() Proxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proxy == nil {
		return Proxy{} // DefaultProxy
	}
	return *s.proxy
}

// SetProxy sets the proxy for the next connection.
func (s *Socket) SetProxy(p Proxy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proxy = &p
}

// proxyError is a failure to get through a proxy, with Qt's error kind.
type proxyError struct {
	kind SocketError
	msg  string
}

func (e *proxyError) Error() string { return e.msg }

// dialThroughProxy connects to host:port through p.
func dialThroughProxy(ctx context.Context, p Proxy, host string, port uint16) (net.Conn, error) {
	proxyAddr := net.JoinHostPort(p.HostName, strconv.Itoa(int(p.Port)))
	target := net.JoinHostPort(host, strconv.Itoa(int(port)))
	var d net.Dialer
	switch p.Type {
	case Socks5Proxy:
		var auth *proxy.Auth
		if p.User != "" {
			auth = &proxy.Auth{User: p.User, Password: p.Password}
		}
		dialer, err := proxy.SOCKS5("tcp", proxyAddr, auth, &d)
		if err != nil {
			return nil, &proxyError{ProxyProtocolError, err.Error()}
		}
		conn, err := dialer.(proxy.ContextDialer).DialContext(ctx, "tcp", target)
		if err != nil {
			return nil, classifyProxyDialError(err)
		}
		return conn, nil
	case HttpProxy:
		conn, err := d.DialContext(ctx, "tcp", proxyAddr)
		if err != nil {
			return nil, classifyProxyDialError(err)
		}
		if err := httpConnect(conn, p, target); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
	return nil, &proxyError{UnsupportedSocketOperationError, "Unsupported proxy type"}
}

func classifyProxyDialError(err error) error {
	msg := err.Error()
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return &proxyError{ProxyNotFoundError, "Proxy not found"}
	case strings.Contains(msg, "authentication failed"), strings.Contains(msg, "no acceptable authentication methods"):
		return &proxyError{ProxyAuthenticationRequiredError, "Proxy authentication failed"}
	case errors.Is(err, syscall.ECONNREFUSED) && strings.Contains(msg, "dial"):
		return &proxyError{ProxyConnectionRefusedError, "Proxy connection refused"}
	case strings.Contains(msg, "connection refused"):
		return &proxyError{ConnectionRefusedError, "Connection refused (through the proxy)"}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &proxyError{ProxyConnectionTimeoutError, "Proxy connection timed out"}
	case strings.Contains(msg, "EOF"):
		return &proxyError{ProxyConnectionClosedError, "Proxy connection closed prematurely"}
	}
	return &proxyError{ProxyProtocolError, "Proxy error: " + msg}
}

// httpConnect asks an HTTP proxy for a tunnel to target.
func httpConnect(conn net.Conn, p Proxy, target string) error {
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if p.User != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(p.User+":"+p.Password)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return &proxyError{ProxyConnectionClosedError, "Proxy connection closed prematurely"}
	}
	// Read the reply a byte at a time: nothing after it may be consumed.
	br := bufio.NewReaderSize(oneByteReader{conn}, 16)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		if strings.Contains(err.Error(), "EOF") {
			return &proxyError{ProxyConnectionClosedError, "Proxy connection closed prematurely"}
		}
		return &proxyError{ProxyProtocolError, "Error communicating with HTTP proxy"}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return &proxyError{ProxyAuthenticationRequiredError, "Proxy requires authentication"}
	case resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusNotFound, resp.StatusCode >= 500:
		return &proxyError{ProxyConnectionRefusedError, "Proxy denied connection: " + resp.Status}
	}
	return &proxyError{ProxyProtocolError, "Unexpected proxy reply: " + resp.Status}
}

// oneByteReader reads one byte at a time, so that a bufio.Reader on top
// never takes bytes that belong to the tunnel.
type oneByteReader struct{ c net.Conn }

// Read reads at most one byte.
func (r oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return r.c.Read(p)
}
