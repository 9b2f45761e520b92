//go:build cgo && linux

package openssl_test

import (
	"errors"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// Benchmarks of ssl.Engine on this backend beside the go backend, in one
// run (DESIGN.md §4: the openssl backend ≥ 0.9× the go backend on bulk and
// handshakes). Both run TLS 1.3 with AES-128-GCM, X25519 and ECDSA P-256.

var benchIDs = newIDs()

// benchConfigs pins the design's suite on both backends (the go backend's
// client prefers AES-128-GCM already; OpenSSL's server would pick AES-256).
func benchConfigs(backend string) (ccfg, scfg ssl.Configuration) {
	ccfg = benchIDs.clientConfig(backend, ssl.TlsV1_3)
	scfg = benchIDs.serverConfig(backend, benchIDs.server)
	if backend == "openssl" {
		for _, c := range []*ssl.Configuration{&ccfg, &scfg} {
			c.SetBackendConfigurationOption("Ciphersuites", "TLS_AES_128_GCM_SHA256")
		}
	}
	return ccfg, scfg
}

var backends = []string{"go", "openssl"}

func benchPair(b *testing.B, backend string) (c, s *ssl.Engine) {
	ccfg, scfg := benchConfigs(backend)
	c, s = engines(b, ccfg, scfg)
	if cerr, serr := handshake(b, c, s, 0); cerr != nil || serr != nil {
		b.Fatal(cerr, serr)
	}
	if got := c.SessionCipher().Name(); got != "TLS_AES_128_GCM_SHA256" {
		b.Fatalf("%s negotiated %s", backend, got)
	}
	return c, s
}

// bulk moves b.N writes of size bytes from c to s through one buffer.
func bulk(b *testing.B, c, s *ssl.Engine, size int) {
	msg := make([]byte, size)
	wire := make([]byte, ssl.MaxPendingOutput)
	rb := make([]byte, 32<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
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
			if err != nil && !errors.Is(err, ssl.ErrWantRead) {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkBulk16K(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			c, s := benchPair(b, backend)
			bulk(b, c, s, 16<<10)
		})
	}
}

// BenchmarkWrite64 is one 64-byte record per Write, through the whole
// round (Write, TakeOutput, Feed, Read): per-call costs dominate, the cgo
// transitions among them on this backend.
func BenchmarkWrite64(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			c, s := benchPair(b, backend)
			bulk(b, c, s, 64)
		})
	}
}

func BenchmarkHandshake(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			ccfg, scfg := benchConfigs(backend)
			b.ReportAllocs()
			for range b.N {
				c, s := engines(b, ccfg, scfg)
				if cerr, serr := handshake(b, c, s, 0); cerr != nil || serr != nil {
					b.Fatal(cerr, serr)
				}
				c.Close()
				s.Close()
			}
		})
	}
}

func BenchmarkHandshakeResumed(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			ccfg, scfg := benchConfigs(backend)
			ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
			c, s := engines(b, ccfg, scfg)
			handshake(b, c, s, 0)
			pipe(b, s, c, []byte("tickets"), 0)
			ticket := c.SslConfiguration().SessionTicket()
			if len(ticket) == 0 {
				b.Fatal("no ticket")
			}
			ccfg.SetSessionTicket(ticket)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, s := engines(b, ccfg, scfg)
				if cerr, serr := handshake(b, c, s, 0); cerr != nil || serr != nil {
					b.Fatal(cerr, serr)
				}
				if !c.IsSessionResumed() {
					b.Fatal("not resumed")
				}
				c.Close()
				s.Close()
			}
		})
	}
}

// TestSteadyStateAllocations: a Write+TakeOutput+Feed+Read round of the
// public Engine on this backend allocates nothing once warm.
func TestSteadyStateAllocations(t *testing.T) {
	ccfg, scfg := benchConfigs("openssl")
	c, s := engines(t, ccfg, scfg)
	if cerr, serr := handshake(t, c, s, 0); cerr != nil || serr != nil {
		t.Fatal(cerr, serr)
	}
	for _, size := range []int{64, 4096, 16 << 10} {
		msg := make([]byte, size)
		wire := make([]byte, ssl.MaxPendingOutput)
		rb := make([]byte, 32<<10)
		round := func() {
			c.Write(msg)
			n := c.TakeOutput(wire)
			s.Feed(wire[:n])
			for got := 0; got < size; {
				k, err := s.Read(rb)
				got += k
				if err != nil && !errors.Is(err, ssl.ErrWantRead) {
					t.Fatal(err)
				}
			}
		}
		for range 10 {
			round()
		}
		if a := testing.AllocsPerRun(200, round); a != 0 {
			t.Errorf("%d-byte writes: %v allocations per round", size, a)
		}
	}
}
