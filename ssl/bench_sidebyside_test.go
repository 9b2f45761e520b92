package ssl

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
	"time"
)

// Side-by-side benchmarks: ours and raw crypto/tls alternate within one
// loop (one operation each per round, the order swapped every round), so
// that a shared, noisy machine slows both alike. Each reports both times
// per operation and "speed-vs-raw" = raw time ÷ our time (1.0 = as fast
// as crypto/tls; the DESIGN.md §4 targets are written in this ratio).

// sideBySide runs ours and raw b.N times each, interleaved.
func sideBySide(b *testing.B, ours, raw func()) {
	b.Helper()
	var tOurs, tRaw time.Duration
	timed := func(f func(), into *time.Duration) {
		t0 := time.Now()
		f()
		*into += time.Since(t0)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			timed(ours, &tOurs)
			timed(raw, &tRaw)
		} else {
			timed(raw, &tRaw)
			timed(ours, &tOurs)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "ours-ns/op")
	b.ReportMetric(float64(tRaw.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(tRaw)/float64(tOurs), "speed-vs-raw")
}

// rawServerWith is rawServer with the server's client-authentication
// setting (Qt's default server, AutoVerifyPeer, asks for a certificate:
// tls.RequestClientCert is the same work on the wire).
func rawServerWith(b *testing.B, p *testPKI, auth tls.ClientAuthType) benchServer {
	return rawServerConfig(b, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}},
		ClientAuth:   auth,
	})
}

// drain reads r until it fails, then signals done.
func drain(r io.Reader, done chan<- struct{}) {
	buf := make([]byte, 32<<10)
	for {
		if _, err := r.Read(buf); err != nil {
			close(done)
			return
		}
	}
}

// bulkSideBySide writes 16 KiB chunks through ours and raw alternately
// while their readers drain them; each write's time is its share of the
// stream's steady state (TCP back-pressure paces it).
func bulkSideBySide(b *testing.B, oursW, rawW io.WriteCloser, oursR, rawR io.Reader) {
	buf := make([]byte, 16<<10)
	od, rd := make(chan struct{}), make(chan struct{})
	go drain(oursR, od)
	go drain(rawR, rd)
	b.SetBytes(int64(len(buf)))
	sideBySide(b, func() {
		if _, err := oursW.Write(buf); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := rawW.Write(buf); err != nil {
			b.Fatal(err)
		}
	})
	oursW.Close()
	rawW.Close()
	<-od
	<-rd
}

func BenchmarkSideBySide(b *testing.B) {
	p := benchPKI(b)
	b.Run("server-bulk-16k", func(b *testing.B) { // the accepted connection reads
		ours, raw := ourServer(b, p, backendMode{}), rawServerWith(b, p, tls.RequestClientCert)
		defer ours.close()
		defer raw.close()
		oc := dialRaw(b, ours.addr, benchClientConfig(p))
		os := ours.accept()
		rc := dialRaw(b, raw.addr, benchClientConfig(p))
		rs := raw.accept()
		defer os.Close()
		defer rs.Close()
		bulkSideBySide(b, oc, rc, os, rs)
	})
	b.Run("pair-bulk-16k", func(b *testing.B) { // our client writes, our server socket reads
		oc, os := ourPair(b, p)
		rc, rs := rawTLSPair(b, p)
		defer os.Close()
		defer rs.Close()
		bulkSideBySide(b, oc, rc, os, rs)
	})
	for _, bc := range []struct {
		name   string
		resume bool
		auth   tls.ClientAuthType
	}{
		{"server-handshake", false, tls.RequestClientCert},
		{"server-handshake-vs-raw-default", false, tls.NoClientCert},
		{"server-resumed", true, tls.RequestClientCert},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ours, raw := ourServer(b, p, backendMode{}), rawServerWith(b, p, bc.auth)
			defer ours.close()
			defer raw.close()
			ocfg, rcfg := benchClientConfig(p), benchClientConfig(p)
			if !bc.resume {
				ocfg.ClientSessionCache, rcfg.ClientSessionCache = nil, nil
			} else { // a first full handshake each, for a ticket
				ours.round(b, ocfg, true, false)
				raw.round(b, rcfg, true, false)
			}
			b.ReportAllocs()
			sideBySide(b, func() { ours.round(b, ocfg, bc.resume, bc.resume) }, func() { raw.round(b, rcfg, bc.resume, bc.resume) })
		})
	}
	b.Run("client-dial", func(b *testing.B) { // Dial vs tls.Dial, both to a raw crypto/tls server
		srv := rawServerWith(b, p, tls.NoClientCert)
		defer srv.close()
		ocfg, rcfg := p.clientConfig(), benchClientConfig(p)
		rcfg.ClientSessionCache = nil
		sideBySide(b, func() {
			c, err := Dial(context.Background(), srv.addr, ocfg)
			if err != nil {
				b.Fatal(err)
			}
			s := srv.accept()
			c.Close()
			s.Close()
		}, func() {
			c := dialRaw(b, srv.addr, rcfg)
			s := srv.accept()
			c.Close()
			s.Close()
		})
	})
	b.Run("pair-handshake", func(b *testing.B) {
		sideBySide(b, func() {
			c, s := ourPair(b, p)
			c.Abort()
			s.Abort()
		}, func() {
			c, s := rawTLSPair(b, p)
			c.Close()
			s.Close()
		})
	})
	b.Run("pair-resumed", func(b *testing.B) {
		ccfg := ticketConfig(b, p)
		scfg, rcfg := rawResumingConfigs(b, p)
		sideBySide(b, func() {
			c, s := pairWith(b, p, ccfg)
			if !c.IsSessionResumed() {
				b.Fatal("not resumed")
			}
			c.Abort()
			s.Abort()
		}, func() {
			c, s := rawPairWith(b, scfg, rcfg)
			if !c.ConnectionState().DidResume {
				b.Fatal("not resumed")
			}
			c.Close()
			s.Close()
		})
	})
}
