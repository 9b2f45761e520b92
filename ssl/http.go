package ssl

import (
	"context"
	"net"
	"net/http"
)

// ServeHTTP serves HTTP with srv on the encrypted connections l accepts (a
// Server from Listen): HTTP/2 to clients that chose "h2" through ALPN,
// HTTP/1.1 to the others, with Request.TLS set from the connection's
// Socket.ConnectionState on both. It is srv.Serve(l) with HTTP/2 made to
// work, and returns what srv.Serve returns (http.ErrServerClosed after
// srv.Shutdown or srv.Close).
//
// Why not plain srv.Serve(l)? net/http switches to HTTP/2 only on
// *tls.Conn connections: given a Socket that negotiated "h2" it answers in
// HTTP/1.1 and the client fails. ServeHTTP uses net/http's own HTTP/2
// server through its connection-level entry (Protocols with
// UnencryptedHTTP2: "unencrypted" there means that net/http does not do the
// TLS itself — the Socket does), and sets Request.TLS itself.
//
// ServeHTTP adjusts srv before serving: it adds HTTP/2 to srv.Protocols,
// and wraps srv.Handler and srv.ConnContext (keeping what they do). Call it
// once per srv, with a listener of Sockets (Listen, NewServer): on plain
// TCP connections srv would also accept cleartext HTTP/2 (h2c).
func ServeHTTP(srv *http.Server, l net.Listener) error {
	var protos http.Protocols
	if srv.Protocols != nil {
		protos = *srv.Protocols
	} else {
		protos.SetHTTP1(true)
	}
	protos.SetUnencryptedHTTP2(true)
	srv.Protocols = &protos

	connContext := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if hc, ok := c.(httpConn); ok {
			ctx = context.WithValue(ctx, httpConnKey{}, hc.stater)
		}
		if connContext != nil {
			ctx = connContext(ctx, c)
		}
		return ctx
	}
	handler := srv.Handler
	if handler == nil {
		handler = http.DefaultServeMux
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(httpConnKey{}).(connectionStater); ok && r.TLS == nil {
			cs := st.ConnectionState()
			r.TLS = &cs
		}
		handler.ServeHTTP(w, r)
	})
	return srv.Serve(httpListener{l})
}

// httpListener hands srv.Serve its connections as httpConn.
type httpListener struct{ net.Listener }

// Accept wraps the next connection.
func (l httpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	st, ok := c.(connectionStater)
	if !ok {
		return c, nil // not a Socket: as srv.Serve would
	}
	return httpConn{Conn: c, stater: st}, nil
}

// httpConn is a Socket seen by net/http as a plain net.Conn: its
// ConnectionState is hidden, so that net/http takes the connection-level
// HTTP/2 path; ServeHTTP's handler sets Request.TLS from stater.
type httpConn struct {
	net.Conn
	stater connectionStater
}

// httpConnKey is the context key of an httpConn's connectionStater.
type httpConnKey struct{}
