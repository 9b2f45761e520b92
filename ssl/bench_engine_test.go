package ssl

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
)

// Engine benchmarks: two Engines wired in memory by the benchmark itself,
// beside two crypto/tls connections over net.Pipe (DESIGN.md §4: Engine
// bulk ≥ 0.9×), and the same on every backend.

// pipeTLSPair is a crypto/tls client and server over net.Pipe.
func pipeTLSPair(b *testing.B, p *testPKI) (*tls.Conn, *tls.Conn) {
	scfg, ccfg := rawConfigs(p)
	cli, srv := net.Pipe()
	return rawHandshake(b, cli, srv, scfg, ccfg)
}

// engineBulk moves b.N writes of size bytes from c to s through one
// reusable buffer, as an event loop would.
func engineBulk(b *testing.B, c, s *Engine, size int) {
	msg := make([]byte, size)
	wire := make([]byte, MaxPendingOutput)
	rb := make([]byte, 32<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := c.Write(msg); n != size || err != nil {
			b.Fatal(n, err)
		}
		n := c.TakeOutput(wire)
		if err := s.Feed(wire[:n]); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < size; {
			k, err := s.Read(rb)
			got += k
			if err != nil && !errors.Is(err, ErrWantRead) {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEngineBulk16K(b *testing.B) {
	p := benchPKI(b)
	for _, backend := range AvailableBackends() {
		b.Run("engine-"+backend, func(b *testing.B) {
			c, s := enginePair(b, p, backend, p.clientConfig())
			if cerr, serr := handshakeEngines(b, c, s, 0); cerr != nil || serr != nil {
				b.Fatal(cerr, serr)
			}
			engineBulk(b, c, s, 16<<10)
		})
	}
	b.Run("crypto-tls-pipe", func(b *testing.B) { c, s := pipeTLSPair(b, p); benchBulk(b, c, s, 16<<10) })
}

func BenchmarkEngineHandshake(b *testing.B) {
	p := benchPKI(b)
	for _, backend := range AvailableBackends() {
		b.Run("engine-"+backend, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c, s := enginePair(b, p, backend, p.clientConfig())
				if cerr, serr := handshakeEngines(b, c, s, 0); cerr != nil || serr != nil {
					b.Fatal(cerr, serr)
				}
				c.Close()
				s.Close()
			}
		})
	}
	b.Run("crypto-tls-pipe", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c, s := pipeTLSPair(b, p)
			c.NetConn().Close() // tls.Conn.Close would wait on the unread pipe for close_notify
			s.NetConn().Close()
		}
	})
}

// TestEngineSteadyStateAllocations: Read and Write allocate nothing once
// the buffers have grown (DESIGN.md §4), on every backend — except, on the
// go backend, the 16 bytes crypto/tls itself allocates each time it reads
// from its transport (readFromUntil's atLeastReader escapes; a raw
// tls.Conn over net.Pipe allocates the same), so one per round there.
func TestEngineSteadyStateAllocations(t *testing.T) {
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			c, s := enginePair(t, p, backend, p.clientConfig())
			if cerr, serr := handshakeEngines(t, c, s, 0); cerr != nil || serr != nil {
				t.Fatal(cerr, serr)
			}
			msg := make([]byte, 4096)
			wire := make([]byte, MaxPendingOutput)
			rb := make([]byte, 8192)
			round := func() {
				c.Write(msg)
				n := c.TakeOutput(wire)
				s.Feed(wire[:n])
				for got := 0; got < len(msg); {
					k, err := s.Read(rb)
					got += k
					if err != nil && !errors.Is(err, ErrWantRead) {
						t.Fatal(err)
					}
				}
			}
			for i := 0; i < 10; i++ {
				round() // grow the buffers
			}
			limit := 0.0
			if backend == "go" {
				limit = 1 // crypto/tls's own, see above
			}
			if a := testing.AllocsPerRun(200, round); a > limit {
				t.Errorf("%v allocations per Write+Feed+Read round, want ≤ %v", a, limit)
			}
		})
	}
}
