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

// Benchmarks come in pairs: ours and raw crypto/tls over the same loopback
// TCP, so that ratios from one run can be compared (DESIGN.md §4).

// benchPKI is shared by the benchmarks: key generation is not what they measure.
var benchPKIOnce = struct {
	p *testPKI
}{}

func benchPKI(b *testing.B) *testPKI {
	if benchPKIOnce.p == nil {
		benchPKIOnce.p = newTestPKI(b)
	}
	return benchPKIOnce.p
}

// rawConfigs are the raw crypto/tls server and client configurations of
// the benchmarks: the same identity and trust as ours, crypto/tls defaults.
func rawConfigs(p *testPKI) (server, client *tls.Config) {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	cert := tls.Certificate{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// rawTLSPair is a crypto/tls client and server over loopback TCP, TLS 1.3.
func rawTLSPair(b *testing.B, p *testPKI) (*tls.Conn, *tls.Conn) {
	scfg, ccfg := rawConfigs(p)
	return rawPairWith(b, scfg, ccfg)
}

// rawPairWith is a crypto/tls client and server over loopback TCP with
// the given configurations, handshake completed.
func rawPairWith(b *testing.B, scfg, ccfg *tls.Config) (*tls.Conn, *tls.Conn) {
	cli, srv := tcpPairB(b)
	return rawHandshake(b, cli, srv, scfg, ccfg)
}

// rawHandshake runs crypto/tls's handshake over a connected pair.
func rawHandshake(b *testing.B, cli, srv net.Conn, scfg, ccfg *tls.Config) (*tls.Conn, *tls.Conn) {
	sc, cc := tls.Server(srv, scfg), tls.Client(cli, ccfg)
	done := make(chan error, 1)
	go func() { done <- sc.Handshake() }()
	if err := cc.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return cc, sc
}

// ticketConfig is our client configuration holding a fresh session ticket.
func ticketConfig(b *testing.B, p *testPKI) Configuration {
	ccfg := p.clientConfig()
	ccfg.SetSslOption(SslOptionDisableSessionPersistence, false)
	c, s := pairWith(b, p, ccfg)
	c.WaitForReadyRead(200 * time.Millisecond) // let the ticket arrive
	ticket := c.SslConfiguration().SessionTicket()
	c.Abort()
	s.Abort()
	if len(ticket) == 0 {
		b.Fatal("no ticket")
	}
	ccfg.SetSessionTicket(ticket)
	return ccfg
}

// rawResumingConfigs are rawConfigs with a client session cache that holds
// a ticket already.
func rawResumingConfigs(b *testing.B, p *testPKI) (server, client *tls.Config) {
	scfg, ccfg := rawConfigs(p)
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	c, s := rawPairWith(b, scfg, ccfg)
	go s.Write([]byte("x")) // the client reads the ticket with it
	c.Read(make([]byte, 1))
	c.Close()
	s.Close()
	return scfg, ccfg
}

func tcpPairB(b *testing.B) (net.Conn, net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); ch <- c }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c, <-ch
}

func ourPair(b *testing.B, p *testPKI) (*Socket, *Socket) {
	c, s, err := socketPair(b, p)
	if err != nil {
		b.Fatal(err)
	}
	return c, s
}

// benchBulk streams b.N chunks of size bytes from w to r.
func benchBulk(b *testing.B, w io.WriteCloser, r io.ReadCloser, size int) {
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	done := make(chan struct{})
	go func() {
		defer close(done)
		rb := make([]byte, 32<<10)
		want := int64(b.N) * int64(size)
		for got := int64(0); got < want; {
			n, err := r.Read(rb)
			got += int64(n)
			if err != nil {
				return
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	w.Close()
	r.Close()
}

func BenchmarkBulk16K(b *testing.B) {
	p := benchPKI(b)
	b.Run("sslsocket", func(b *testing.B) { c, s := ourPair(b, p); benchBulk(b, c, s, 16<<10) })
	b.Run("crypto-tls", func(b *testing.B) { c, s := rawTLSPair(b, p); benchBulk(b, c, s, 16<<10) })
}

func BenchmarkSmallWrites64(b *testing.B) {
	p := benchPKI(b)
	b.Run("sslsocket", func(b *testing.B) { c, s := ourPair(b, p); benchBulk(b, c, s, 64) })
	b.Run("crypto-tls", func(b *testing.B) { c, s := rawTLSPair(b, p); benchBulk(b, c, s, 64) })
}

// benchPingPong measures small request/response round trips.
func benchPingPong(b *testing.B, c, s io.ReadWriteCloser) {
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	s.Close()
}

func BenchmarkPingPong(b *testing.B) {
	p := benchPKI(b)
	b.Run("sslsocket", func(b *testing.B) { c, s := ourPair(b, p); benchPingPong(b, c, s) })
	b.Run("crypto-tls", func(b *testing.B) { c, s := rawTLSPair(b, p); benchPingPong(b, c, s) })
}

// BenchmarkHandshake measures full TLS 1.3 handshakes, client and server in
// one process, each over a fresh loopback connection.
func BenchmarkHandshake(b *testing.B) {
	p := benchPKI(b)
	b.Run("sslsocket", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c, s := ourPair(b, p)
			c.Abort()
			s.Abort()
		}
	})
	b.Run("crypto-tls", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c, s := rawTLSPair(b, p)
			c.Close()
			s.Close()
		}
	})
}

// BenchmarkResumedHandshake measures TLS 1.3 resumptions from a ticket.
func BenchmarkResumedHandshake(b *testing.B) {
	p := benchPKI(b)
	b.Run("sslsocket", func(b *testing.B) {
		ccfg := ticketConfig(b, p)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, s := pairWith(b, p, ccfg)
			if !c.IsSessionResumed() {
				b.Fatal("not resumed")
			}
			c.Abort()
			s.Abort()
		}
	})
	b.Run("crypto-tls", func(b *testing.B) {
		scfg, ccfg := rawResumingConfigs(b, p)
		pair := func() (*tls.Conn, *tls.Conn) { return rawPairWith(b, scfg, ccfg) }
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, s := pair()
			if !c.ConnectionState().DidResume {
				b.Fatal("not resumed")
			}
			c.Close()
			s.Close()
		}
	})
}

// pairWith is socketPair with a given client configuration.
func pairWith(b *testing.B, p *testPKI, ccfg Configuration) (*Socket, *Socket) {
	cli, srv := tcpPairB(b)
	server := NewSocketFromConn(srv)
	server.SetSslConfiguration(p.serverConfig(p.server))
	client := NewSocketFromConn(cli)
	client.SetSslConfiguration(ccfg)
	client.SetPeerVerifyName("localhost")
	server.StartServerEncryption()
	client.StartClientEncryption()
	if !client.WaitForEncrypted(5*time.Second) || !server.WaitForEncrypted(5*time.Second) {
		b.Fatal(client.ErrorString(), server.ErrorString())
	}
	return client, server
}

// BenchmarkIdleConnectionMemory reports the heap and stack held per idle
// encrypted connection (client and server socket each count as one), over
// 2,000 pairs = 4,000 connections' worth of sockets.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	p := benchPKI(b)
	const pairs = 2000
	measure := func(b *testing.B, open func() (io.Closer, io.Closer)) {
		for i := 0; i < b.N; i++ {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var all []io.Closer
			for j := 0; j < pairs; j++ {
				c, s := open()
				all = append(all, c, s)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			used := (after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse)
			b.ReportMetric(float64(used)/float64(2*pairs)/1024, "KiB/conn")
			for _, c := range all {
				c.Close()
			}
		}
	}
	b.Run("sslsocket", func(b *testing.B) {
		measure(b, func() (io.Closer, io.Closer) { c, s := ourPair(b, p); return c, s })
	})
	b.Run("crypto-tls", func(b *testing.B) {
		measure(b, func() (io.Closer, io.Closer) { c, s := rawTLSPair(b, p); return c, s })
	})
}
