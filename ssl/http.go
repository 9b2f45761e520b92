package ssl

import (
	"errors"
	"net"
	"net/http"
	"sync"

	"golang.org/x/net/http2"
)

// ServeHTTP serves HTTP with srv's handler and settings on the encrypted
// connections l accepts (a Server from Listen): HTTP/2 on those whose
// client chose "h2" through ALPN, HTTP/1.1 on the others. Request.TLS is
// set on both (Socket.ConnectionState). It returns when l fails or is
// closed, or after srv.Shutdown or srv.Close, with srv.Serve's error
// (http.ErrServerClosed after a shutdown).
//
// Why not srv.Serve(l)? net/http switches to HTTP/2 only on *tls.Conn
// connections: given a Socket that negotiated "h2", it would answer in
// HTTP/1.1 and the client would fail. srv.Serve(l) is right only when the
// configuration does not offer "h2" (AllowedNextProtocols).
//
// ServeHTTP prepares srv for HTTP/2 with golang.org/x/net/http2's
// ConfigureServer, so that srv.Shutdown also ends HTTP/2 connections
// gracefully; call it once per srv.
func ServeHTTP(srv *http.Server, l net.Listener) error {
	h2 := &http2.Server{}
	if err := http2.ConfigureServer(srv, h2); err != nil {
		return err
	}
	h1 := &connListener{l: l, conns: make(chan net.Conn), closed: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(h1) }()
	for {
		c, err := l.Accept()
		if err != nil {
			h1.Close()
			if serr := <-served; !errors.Is(serr, net.ErrClosed) {
				return serr // http.ErrServerClosed after Shutdown or Close
			}
			return err
		}
		if st, ok := c.(connectionStater); ok && st.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
			go h2.ServeConn(c, &http2.ServeConnOpts{BaseConfig: srv, Handler: srv.Handler})
			continue
		}
		select {
		case h1.conns <- c:
		case <-h1.closed:
			c.Close()
		}
	}
}

// connListener hands ServeHTTP's HTTP/1 connections to http.Server.Serve.
// Closing it (as srv.Shutdown does) closes the real listener too, which
// ends ServeHTTP's accept loop.
type connListener struct {
	l      net.Listener
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

// Accept returns the next HTTP/1 connection.
func (c *connListener) Accept() (net.Conn, error) {
	select {
	case conn := <-c.conns:
		return conn, nil
	case <-c.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and closes the real listener.
func (c *connListener) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.l.Close()
	})
	return nil
}

// Addr is the real listener's address.
func (c *connListener) Addr() net.Addr { return c.l.Addr() }
