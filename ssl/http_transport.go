package ssl

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"

	"golang.org/x/net/http2"
)

// HTTPTransport is an http.RoundTripper for https URLs whose connections
// are Sockets dialled with Config: HTTP/2 when the server chooses "h2"
// through ALPN, HTTP/1.1 otherwise, with Response.TLS set from
// Socket.ConnectionState. Certificates are verified by this package's
// verifier with Qt's policy: a handshake with errors fails (the request
// returns a *VerificationError) unless Config says otherwise.
//
// Why not http.Transport with DialTLSContext returning a Socket? It works
// for HTTP/1.1, but net/http fills Response.TLS only for *tls.Conn
// connections, and speaks HTTP/1.1 even where "h2" was negotiated; and
// golang.org/x/net/http2's Transport speaks only HTTP/2. HTTPTransport
// dials once, looks at the protocol the server chose, and hands the
// connection to the right one.
//
// Use NewHTTPTransport; the zero HTTPTransport is not usable.
type HTTPTransport struct {
	config Configuration
	h1     *http.Transport
	h2     *http2.Transport

	mu      sync.Mutex
	h2conns map[string]*http2.ClientConn // by host:port
	http1   map[string]bool              // servers that declined h2
	spare   map[string][]*Socket         // dialled, chose HTTP/1.1, not yet used
}

// NewHTTPTransport returns a transport whose connections use config, with
// ALPN set to "h2", "http/1.1" (config's own ALPN list is replaced).
func NewHTTPTransport(config Configuration) *HTTPTransport {
	t := &HTTPTransport{config: config.Clone(), h2conns: map[string]*http2.ClientConn{},
		http1: map[string]bool{}, spare: map[string][]*Socket{}}
	t.h1 = &http.Transport{DialTLSContext: t.dialHTTP1}
	t.h2 = &http2.Transport{}
	return t
}

func (t *HTTPTransport) dial(ctx context.Context, addr string, protos ...string) (*Socket, error) {
	cfg := t.config.Clone()
	cfg.SetAllowedNextProtocols(protos)
	return Dial(ctx, addr, &cfg)
}

// dialHTTP1 is the HTTP/1.1 transport's dialler: a connection the protocol
// probe left over, else a new one offering only http/1.1.
func (t *HTTPTransport) dialHTTP1(ctx context.Context, _, addr string) (net.Conn, error) {
	t.mu.Lock()
	if socks := t.spare[addr]; len(socks) > 0 {
		s := socks[len(socks)-1]
		t.spare[addr] = socks[:len(socks)-1]
		t.mu.Unlock()
		return s, nil
	}
	t.mu.Unlock()
	return t.dial(ctx, addr, "http/1.1")
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
	cc := t.h2conns[addr]
	known1 := t.http1[addr]
	t.mu.Unlock()
	if cc != nil && cc.CanTakeNewRequest() {
		return cc.RoundTrip(req)
	}
	if !known1 {
		sock, err := t.dial(req.Context(), addr, http2.NextProtoTLS, "http/1.1")
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		if sock.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
			cc, err := t.h2.NewClientConn(sock)
			if err != nil {
				sock.Close()
				if req.Body != nil {
					req.Body.Close()
				}
				return nil, err
			}
			t.mu.Lock()
			t.h2conns[addr] = cc
			t.mu.Unlock()
			return cc.RoundTrip(req)
		}
		t.mu.Lock()
		t.http1[addr] = true
		t.spare[addr] = append(t.spare[addr], sock)
		t.mu.Unlock()
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
	t.mu.Lock()
	var spare []*Socket
	for addr, socks := range t.spare {
		spare = append(spare, socks...)
		delete(t.spare, addr)
	}
	var idle []*http2.ClientConn
	for addr, cc := range t.h2conns {
		if st := cc.State(); st.StreamsActive == 0 && st.StreamsPending == 0 {
			idle = append(idle, cc)
			delete(t.h2conns, addr)
		}
	}
	t.mu.Unlock()
	for _, s := range spare {
		s.Close()
	}
	for _, cc := range idle {
		cc.Close()
	}
}

var _ http.RoundTripper = (*HTTPTransport)(nil)
