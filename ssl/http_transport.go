package ssl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
)

// HTTPTransport is an http.RoundTripper for https URLs whose connections
// are Sockets dialled with one Configuration: HTTP/2 when the server chooses
// "h2" through ALPN, HTTP/1.1 otherwise, with Response.TLS set from
// Socket.ConnectionState. Certificates are verified by this package's
// verifier with Qt's policy: a request to a server whose certificate has
// problems fails with a *VerificationError listing them all, unless the
// Configuration says otherwise. Connections are pooled and reused by
// net/http.
//
// Why not http.Transport with DialTLSContext returning a Socket? That works
// for HTTP/1.1 only: net/http fills Response.TLS, and switches to HTTP/2,
// only for *tls.Conn connections. HTTPTransport dials once to learn which
// protocol the server chooses, then hands the connection to an
// http.Transport set up for that protocol (for HTTP/2, net/http's
// connection-level HTTP/2, Protocols with UnencryptedHTTP2 only:
// "unencrypted" there means that net/http does not do the TLS itself).
//
// Use NewHTTPTransport; the zero HTTPTransport is not usable.
type HTTPTransport struct {
	config Configuration
	h1, h2 *http.Transport

	mu    sync.Mutex
	proto map[string]string    // host:port → "h2" or "http/1.1", as the server chose
	spare map[string][]*Socket // host:port → connections dialled to learn it, not yet used
}

// NewHTTPTransport returns a transport whose connections use config; its
// ALPN list is replaced by "h2", "http/1.1".
func NewHTTPTransport(config Configuration) *HTTPTransport {
	t := &HTTPTransport{config: config.Clone(), proto: map[string]string{}, spare: map[string][]*Socket{}}
	t.h1 = &http.Transport{DialTLSContext: t.dialer("http/1.1")}
	t.h1.Protocols = new(http.Protocols)
	t.h1.Protocols.SetHTTP1(true)
	t.h2 = &http.Transport{DialTLSContext: t.dialer("h2")}
	t.h2.Protocols = new(http.Protocols)
	t.h2.Protocols.SetUnencryptedHTTP2(true)
	return t
}

// errProtocolChanged fails a dial whose server no longer chooses the
// protocol it chose before.
var errProtocolChanged = errors.New("ssl: the server's ALPN choice changed")

// dialer returns the DialTLSContext of the transport for proto: a spare
// connection from the probe, else a new one that must negotiate proto.
func (t *HTTPTransport) dialer(proto string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		t.mu.Lock()
		if socks := t.spare[addr]; len(socks) > 0 && t.proto[addr] == proto {
			s := socks[len(socks)-1]
			t.spare[addr] = socks[:len(socks)-1]
			t.mu.Unlock()
			return s, nil
		}
		t.mu.Unlock()
		s, got, err := t.dial(ctx, addr, proto)
		if err != nil {
			return nil, err
		}
		if got != proto {
			s.Close()
			t.mu.Lock()
			delete(t.proto, addr) // probe again next time
			t.mu.Unlock()
			return nil, fmt.Errorf("%w: %s chose %q, not %q", errProtocolChanged, addr, got, proto)
		}
		return s, nil
	}
}

// dial connects offering protos and returns the protocol the server chose
// ("http/1.1" when it chose none).
func (t *HTTPTransport) dial(ctx context.Context, addr string, protos ...string) (*Socket, string, error) {
	cfg := t.config.Clone()
	cfg.SetAllowedNextProtocols(protos)
	s, err := Dial(ctx, addr, cfg)
	if err != nil {
		return nil, "", err
	}
	if got := s.ConnectionState().NegotiatedProtocol; got == "h2" {
		return s, got, nil
	}
	return s, "http/1.1", nil
}

// RoundTrip sends one request over HTTP/2 or HTTP/1.1.
func (t *HTTPTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("ssl: HTTPTransport carries https URLs only")
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "443")
	}
	t.mu.Lock()
	proto := t.proto[addr]
	t.mu.Unlock()
	if proto == "" { // learn what the server chooses
		s, got, err := t.dial(req.Context(), addr, "h2", "http/1.1")
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		t.mu.Lock()
		t.proto[addr] = got
		t.spare[addr] = append(t.spare[addr], s)
		t.mu.Unlock()
		proto = got
	}
	if proto == "h2" {
		return t.h2.RoundTrip(req) // net/http's HTTP/2 fills Response.TLS from ConnectionState
	}
	return t.roundTripHTTP1(req)
}

// roundTripHTTP1 lets net/http do HTTP/1.1 and fills Response.TLS from the
// connection it used.
func (t *HTTPTransport) roundTripHTTP1(req *http.Request) (*http.Response, error) {
	var mu sync.Mutex
	var conn net.Conn
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		mu.Lock()
		conn = info.Conn
		mu.Unlock()
	}}
	resp, err := t.h1.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		return nil, err
	}
	mu.Lock()
	c := conn
	mu.Unlock()
	if st, ok := c.(connectionStater); ok && resp.TLS == nil {
		cs := st.ConnectionState()
		resp.TLS = &cs
	}
	return resp, nil
}

// CloseIdleConnections closes connections that carry no request.
func (t *HTTPTransport) CloseIdleConnections() {
	t.h1.CloseIdleConnections()
	t.h2.CloseIdleConnections()
	t.mu.Lock()
	var spare []*Socket
	for addr, socks := range t.spare {
		spare = append(spare, socks...)
		delete(t.spare, addr)
	}
	t.mu.Unlock()
	for _, s := range spare {
		s.Close()
	}
}
