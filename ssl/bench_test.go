package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"testing"
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

// rawTLSPair is a crypto/tls client and server over loopback TCP, TLS 1.3.
func rawTLSPair(b *testing.B, p *testPKI) (*tls.Conn, *tls.Conn) {
	cert := tls.Certificate{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	cli, srv := tcpPairB(b)
	sc := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{cert}})
	cc := tls.Client(cli, &tls.Config{RootCAs: pool, ServerName: "localhost"})
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
