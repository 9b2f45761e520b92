//go:build cgo && linux

package openssl

import (
	"errors"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// BenchmarkCgoCall is one trivial call into the shim (SSL_is_init_finished):
// the price of a Go→C transition, paid four times per 64-byte round.
func BenchmarkCgoCall(b *testing.B) {
	p := newTestPKI(b)
	c, s := p.pair(b, p.clientConfig(), p.serverConfig(p.server))
	mustHandshake(b, c.e, s.e)
	b.ResetTimer()
	for range b.N {
		c.e.initFinished()
	}
}

// BenchmarkCoreWrite64 is BenchmarkWrite64 on the engine core, without
// package ssl's Engine around it: Write, TakeOutput, Feed, Read.
func BenchmarkCoreWrite64(b *testing.B) {
	p := newTestPKI(b)
	ccfg := p.clientConfig()
	ccfg.SetProtocol(ssl.TlsV1_3)
	c, s := p.pair(b, ccfg, p.serverConfig(p.server))
	mustHandshake(b, c.e, s.e)
	msg := make([]byte, 64)
	wire := make([]byte, ssl.MaxPendingOutput)
	rb := make([]byte, 4096)
	b.SetBytes(64)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.e.Write(msg)
		n := c.e.TakeOutput(wire)
		s.e.Feed(wire[:n])
		if k, err := s.e.Read(rb); k != 64 || err != nil && !errors.Is(err, ssl.ErrWantRead) {
			b.Fatal(k, err)
		}
	}
}

// BenchmarkCoreEventRound is the engine's share of one event-loop round
// (server-echo-64 of package ssl's BenchmarkEventPath): a record arrives
// (Feed), Read returns its 64 bytes, the handler writes 64 bytes back
// (Write, TakeOutput), and the loop reads again, which wants more input.
// "read-idle" answers that last read without libssl (engine.Read);
// "libssl" is the previous way, a call into libssl for it.
func BenchmarkCoreEventRound(b *testing.B) {
	for _, mode := range []string{"read-idle", "libssl"} {
		b.Run(mode, func(b *testing.B) {
			p := newTestPKI(b)
			ccfg := p.clientConfig()
			ccfg.SetProtocol(ssl.TlsV1_3)
			c, s := p.pair(b, ccfg, p.serverConfig(p.server))
			mustHandshake(b, c.e, s.e)
			transfer(b, c.e, s.e, []byte("tickets"))
			msg := make([]byte, 64)
			wire := make([]byte, ssl.MaxPendingOutput)
			rb := make([]byte, 16<<10)
			// The client's records, made beforehand: only the server's side is measured.
			records := make([][]byte, 0, 1024)
			for range cap(records) {
				c.e.Write(msg)
				records = append(records, append([]byte(nil), wire[:c.e.TakeOutput(wire)]...))
			}
			lastRead := s.e.Read
			if mode == "libssl" {
				lastRead = s.e.readLibssl
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%len(records) == 0 {
					b.StopTimer()
					for j := range records {
						c.e.Write(msg)
						records[j] = append(records[j][:0], wire[:c.e.TakeOutput(wire)]...)
					}
					b.StartTimer()
				}
				s.e.Feed(records[i%len(records)])
				if n, err := s.e.Read(rb); n != 64 || err != nil {
					b.Fatal(n, err)
				}
				if n, err := s.e.Write(msg); n != 64 || err != nil {
					b.Fatal(n, err)
				}
				s.e.TakeOutput(wire)
				if n, err := lastRead(rb); n != 0 || !errors.Is(err, ssl.ErrWantRead) {
					b.Fatal(n, err)
				}
			}
		})
	}
}
