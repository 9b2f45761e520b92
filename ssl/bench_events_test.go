package ssl

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// Qt's event path, side by side with raw crypto/tls (DESIGN.md §4): a
// socket that answers from its readyRead handler, a client that writes
// its next message from there, and bulk data into a socket whose
// application reads in readyRead. The peer is always a raw crypto/tls
// endpoint, so only our side differs.

const echoMsg = 64

// rawEchoServer is raw crypto/tls's blocking echo: read what came, write it back.
func rawEchoServer(c net.Conn) {
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// eventEchoServer makes s answer from readyRead, as a Qt server does:
// readAll, then write.
func eventEchoServer(s *Socket) {
	s.OnReadyRead(func() {
		if data := s.ReadAll(); len(data) > 0 {
			_, _ = s.Write(data)
		}
	})
}

// roundTrip writes one message on c and reads the whole answer.
func roundTrip(b *testing.B, c net.Conn, msg, buf []byte) {
	if _, err := c.Write(msg); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		b.Fatal(err)
	}
}

// eventClient writes msg from its readyRead handler each time a whole
// answer arrived, for rounds round trips; kick starts a batch.
type eventClient struct {
	s      *Socket
	buf    [16 << 10]byte
	got    int
	left   int
	done   chan struct{}
	msg    []byte
	failed error
}

func newEventClient(s *Socket) *eventClient {
	ec := &eventClient{s: s, done: make(chan struct{}, 1), msg: make([]byte, echoMsg)}
	s.OnReadyRead(func() {
		for s.BytesAvailable() > 0 {
			n, _ := s.Read(ec.buf[:])
			ec.got += n
		}
		for ec.got >= echoMsg {
			ec.got -= echoMsg
			ec.left--
			if ec.left == 0 {
				ec.done <- struct{}{}
				return
			}
			if _, err := s.Write(ec.msg); err != nil {
				ec.failed = err
				ec.done <- struct{}{}
				return
			}
		}
	})
	return ec
}

// batch runs rounds round trips, each next message written by the handler.
func (ec *eventClient) batch(b *testing.B, rounds int) {
	ec.left = rounds
	if _, err := ec.s.Write(ec.msg); err != nil {
		b.Fatal(err)
	}
	<-ec.done
	if ec.failed != nil {
		b.Fatal(ec.failed)
	}
}

// eventPathModes are the backends the event path is measured on.
func eventPathModes() []backendMode {
	var out []backendMode
	for _, m := range backendModes() {
		if !m.engine {
			out = append(out, m)
		}
	}
	return out
}

func BenchmarkEventPath(b *testing.B) {
	p := benchPKI(b)
	for _, m := range eventPathModes() {
		b.Run(m.name+"/server-echo-64", func(b *testing.B) {
			ours, raw := ourServer(b, p, m), rawServerWith(b, p, tls.RequestClientCert)
			defer ours.close()
			defer raw.close()
			oc := dialRaw(b, ours.addr, benchClientConfig(p))
			os := ours.accept().(*Socket)
			eventEchoServer(os)
			rc := dialRaw(b, raw.addr, benchClientConfig(p))
			rs := raw.accept()
			go rawEchoServer(rs)
			defer oc.Close()
			defer rc.Close()
			msg, buf := make([]byte, echoMsg), make([]byte, echoMsg)
			b.ReportAllocs()
			sideBySide(b, func() { roundTrip(b, oc, msg, buf) }, func() { roundTrip(b, rc, msg, buf) })
		})
		b.Run(m.name+"/client-echo-64", func(b *testing.B) {
			srv := rawServerWith(b, p, tls.NoClientCert)
			defer srv.close()
			cfg := m.apply(p.clientConfig())
			oc := dialOurs(b, srv.addr, cfg)
			go rawEchoServer(srv.accept())
			ec := newEventClient(oc)
			rc := dialRaw(b, srv.addr, benchClientConfig(p))
			go rawEchoServer(srv.accept())
			defer oc.Close()
			defer rc.Close()
			msg, buf := make([]byte, echoMsg), make([]byte, echoMsg)
			const rounds = 20
			b.ReportAllocs()
			sideBySide(b, func() { ec.batch(b, rounds) }, func() {
				for i := 0; i < rounds; i++ {
					roundTrip(b, rc, msg, buf)
				}
			})
		})
		b.Run(m.name+"/server-bulk-readyread-16k", func(b *testing.B) {
			rbuf := make([]byte, 32<<10)
			readyReadBulk(b, p, m, func(s *Socket) { // reads what is there, never blocks
				for {
					if n, _ := s.Read(rbuf); n == 0 {
						return
					}
				}
			})
		})
	}
}

// dialOurs connects a client Socket to addr with cfg.
func dialOurs(b *testing.B, addr string, cfg Configuration) *Socket {
	host, port, _ := net.SplitHostPort(addr)
	s := NewSocket()
	s.SetSslConfiguration(cfg)
	s.SetPeerVerifyName("localhost")
	var pn uint16
	for _, c := range port {
		pn = pn*10 + uint16(c-'0')
	}
	s.ConnectToHostEncrypted(host, pn)
	if !s.WaitForEncrypted(-1) {
		b.Fatal(s.ErrorString())
	}
	return s
}

// BenchmarkDispatch is one event delivered to one subscriber: readyRead
// from the read loop (a goroutine whose id is known), and bytesWritten
// handed to the socket's worker, as a Write raises it. DESIGN.md §4:
// ≤ 1 µs and 0 allocations.
func BenchmarkDispatch(b *testing.B) {
	b.Run("readyRead-from-read-loop", func(b *testing.B) {
		s := NewSocket()
		var n int
		s.OnReadyRead(func() { n++ })
		var self goroutineID
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s.emitReadyRead(&self)
		}
		if n != b.N {
			b.Fatalf("%d deliveries, want %d", n, b.N)
		}
	})
	b.Run("bytesWritten-to-worker", func(b *testing.B) {
		s := NewSocket()
		var n atomic.Int64
		s.OnBytesWritten(func(k int64) { n.Add(k) })
		h := s.hub()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s.wrote(1)
		}
		h.awaitData(-1)
		b.StopTimer()
		if n.Load() != int64(b.N) {
			b.Fatalf("%d bytes reported, want %d", n.Load(), b.N)
		}
		h.stopWorker()
		h.awaitWorker()
	})
}

// BenchmarkEventBulkReadAll is bulk into an accepted socket whose
// application reads with ReadAll in readyRead (Qt's idiom), beside raw
// crypto/tls draining the same stream.
func BenchmarkEventBulkReadAll(b *testing.B) {
	p := benchPKI(b)
	for _, m := range eventPathModes() {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			readyReadBulk(b, p, m, func(s *Socket) { _ = s.ReadAll() })
		})
	}
}

// readyReadBulk streams 16 KiB writes from raw crypto/tls clients into an
// accepted Server socket that reads in its readyRead handler (read) and
// into a raw crypto/tls server that drains, side by side.
func readyReadBulk(b *testing.B, p *testPKI, m backendMode, read func(*Socket)) {
	ours, raw := ourServer(b, p, m), rawServerWith(b, p, tls.RequestClientCert)
	defer ours.close()
	defer raw.close()
	oc := dialRaw(b, ours.addr, benchClientConfig(p))
	os := ours.accept().(*Socket)
	rc := dialRaw(b, raw.addr, benchClientConfig(p))
	rs := raw.accept()
	pr, pw := io.Pipe()
	os.OnReadyRead(func() { read(os) })
	os.OnReadChannelFinished(func() { pw.Close() })
	defer rs.Close()
	bulkSideBySide(b, oc, rc, pr, rs)
}
