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
