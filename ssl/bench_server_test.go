package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// Server benchmarks: the product's accept path (Server.Accept) beside a
// raw crypto/tls server (tls.NewListener), both driven by the same raw
// crypto/tls client, in one run (DESIGN.md §4: an accepted socket costs
// what a client socket costs).

// benchServer is what a server benchmark runs against: an address and a
// way to take the next accepted connection.
type benchServer struct {
	addr   string
	accept func() net.Conn
	close  func()
}

func ourServer(b *testing.B, p *testPKI, m backendMode) benchServer {
	srv, err := Listen("tcp", "127.0.0.1:0", p.with(m).serverConfig(p.server))
	if err != nil {
		b.Fatal(err)
	}
	return benchServer{addr: srv.Addr().String(), close: func() { srv.Close() }, accept: func() net.Conn {
		c, err := srv.Accept()
		if err != nil {
			b.Fatal(err)
		}
		return c
	}}
}

func rawServer(b *testing.B, p *testPKI) benchServer {
	cert := tls.Certificate{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}
	return rawServerConfig(b, &tls.Config{Certificates: []tls.Certificate{cert}})
}

// rawServerConfig is a tls.NewListener server with cfg.
func rawServerConfig(b *testing.B, cfg *tls.Config) benchServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	tl := tls.NewListener(l, cfg)
	// As Server does: accept and shake hands concurrently, hand out the result.
	ready := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				close(ready)
				return
			}
			go func() {
				if c.(*tls.Conn).Handshake() != nil {
					c.Close()
					return
				}
				ready <- c
			}()
		}
	}()
	return benchServer{addr: l.Addr().String(), close: func() { tl.Close() }, accept: func() net.Conn {
		c, ok := <-ready
		if !ok {
			b.Fatal("listener closed")
		}
		return c
	}}
}

// serverVariants are the servers compared in one run.
func serverVariants(b *testing.B, p *testPKI) map[string]func() benchServer {
	return map[string]func() benchServer{
		"sslsocket-server":        func() benchServer { return ourServer(b, p, backendMode{}) },
		"sslsocket-server-engine": func() benchServer { return ourServer(b, p, backendMode{backend: "go", engine: true}) },
		"crypto-tls-server":       func() benchServer { return rawServer(b, p) },
	}
}

// round makes one connection through srv: dial, accept, then — with
// ticket — a byte from the server, whose reading makes the client take the
// TLS 1.3 ticket that comes before it (resumed: the connection must have
// been a resumption); then both ends close.
func (srv benchServer) round(b *testing.B, cfg *tls.Config, ticket, resumed bool) {
	c := dialRaw(b, srv.addr, cfg)
	s := srv.accept()
	if resumed && !c.ConnectionState().DidResume {
		b.Fatal("not resumed")
	}
	if ticket {
		s.Write([]byte{1})
		c.Read(make([]byte, 1))
	}
	c.Close()
	s.Close()
}

func benchClientConfig(p *testPKI) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
}

// dialRaw connects a raw crypto/tls client and completes its handshake
// (reading once, so that TLS 1.3 tickets arrive, when resuming).
func dialRaw(b *testing.B, addr string, cfg *tls.Config) *tls.Conn {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkServerHandshake(b *testing.B) {
	p := benchPKI(b)
	for name, mk := range serverVariants(b, p) {
		b.Run(name, func(b *testing.B) {
			srv := mk()
			defer srv.close()
			cfg := benchClientConfig(p)
			cfg.ClientSessionCache = nil // full handshakes only
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				srv.round(b, cfg, false, false)
			}
		})
	}
}

func BenchmarkServerResumedHandshake(b *testing.B) {
	p := benchPKI(b)
	for name, mk := range serverVariants(b, p) {
		b.Run(name, func(b *testing.B) {
			srv := mk()
			defer srv.close()
			cfg := benchClientConfig(p)
			srv.round(b, cfg, true, false) // a full handshake, for a ticket
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				srv.round(b, cfg, true, true) // the byte keeps the cache fed with fresh tickets
			}
		})
	}
}

func BenchmarkServerBulk16K(b *testing.B) {
	p := benchPKI(b)
	for name, mk := range serverVariants(b, p) {
		b.Run(name, func(b *testing.B) {
			srv := mk()
			defer srv.close()
			c := dialRaw(b, srv.addr, benchClientConfig(p))
			s := srv.accept()
			benchBulk(b, c, s, 16<<10) // the accepted connection reads
		})
	}
}

// BenchmarkServerIdleConnectionMemory: heap and stacks per idle accepted
// connection, 2,000 of them, measured on the server side only (the raw
// clients are created before the baseline is taken... no: both sides live
// in this process, so the clients' cost is measured separately and
// subtracted).
func BenchmarkServerIdleConnectionMemory(b *testing.B) {
	p := benchPKI(b)
	const conns = 2000
	for name, mk := range serverVariants(b, p) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				srv := mk()
				cfg := benchClientConfig(p)
				cfg.ClientSessionCache = nil
				var clients, servers []io.Closer
				runtime.GC()
				var m0, m1, m2 runtime.MemStats
				runtime.ReadMemStats(&m0)
				// Clients alone first (dialled, handshaken by the server, then measured).
				for j := 0; j < conns; j++ {
					c := dialRaw(b, srv.addr, cfg)
					s := srv.accept()
					clients = append(clients, c)
					servers = append(servers, s)
				}
				time.Sleep(100 * time.Millisecond) // let handshake goroutines exit
				runtime.GC()
				runtime.ReadMemStats(&m1)
				for _, s := range servers {
					s.Close()
				}
				servers = nil
				time.Sleep(100 * time.Millisecond)
				runtime.GC()
				runtime.ReadMemStats(&m2)
				both := float64((m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse))
				clientsOnly := float64((m2.HeapInuse + m2.StackInuse) - (m0.HeapInuse + m0.StackInuse))
				b.ReportMetric((both-clientsOnly)/conns/1024, "KiB/accepted-conn")
				for _, c := range clients {
					c.Close()
				}
				srv.close()
			}
		})
	}
}
