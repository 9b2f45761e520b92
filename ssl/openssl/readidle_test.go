//go:build cgo && linux

package openssl

import (
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// checkedRead is Read, and whenever Read would answer without calling
// libssl (readIdle), libssl's own answer, which must be the same.
func checkedRead(t *testing.T, e *engine, p []byte) (int, error, bool) {
	t.Helper()
	if !e.readIdle || e.closed || e.err != nil || !e.done || len(p) == 0 {
		n, err := e.Read(p)
		return n, err, false
	}
	n, err := e.Read(p)
	if n != 0 || (e.eof && !errors.Is(err, ssl.ErrUncleanShutdown)) || (!e.eof && !errors.Is(err, ssl.ErrWantRead)) {
		t.Fatalf("idle read: %d %v", n, err)
	}
	if !e.eof {
		if n, err := e.readLibssl(p); n != 0 || !errors.Is(err, ssl.ErrWantRead) {
			t.Fatalf("libssl answers %d %v where the idle read answered ErrWantRead", n, err)
		}
	}
	return n, err, true
}

// TestReadIdleAnswersAsLibssl: records of random sizes, moved in random
// chunks (a byte, part of a record, several records at once), read into
// buffers of random sizes, on both sides (the server's tickets reach the
// client on its first read): every Read answered without libssl gives
// libssl's answer, all the data arrives, and close_notify and the end of
// the transport still come through.
func TestReadIdleAnswersAsLibssl(t *testing.T) {
	p := newTestPKI(t)
	for _, proto := range bothVersions {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(proto.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, seed))
				ccfg := p.clientConfig()
				ccfg.SetProtocol(proto)
				c, s := p.pair(t, ccfg, p.serverConfig(p.server))
				mustHandshake(t, c.e, s.e)
				idle := 0
				for _, dir := range [][2]*engine{{s.e, c.e}, {c.e, s.e}, {s.e, c.e}} {
					from, to := dir[0], dir[1]
					var sent, got []byte
					buf := make([]byte, 40<<10)
					for round := 0; round < 60; round++ {
						msg := make([]byte, 1+rng.IntN(20000))
						for i := range msg {
							msg[i] = byte(rng.Uint32())
						}
						if n, err := from.Write(msg); err != nil || n != len(msg) {
							t.Fatal(n, err)
						}
						sent = append(sent, msg...)
						wire := make([]byte, from.PendingOutput())
						wire = wire[:from.TakeOutput(wire)]
						for len(wire) > 0 || len(got) < len(sent) {
							if len(wire) > 0 {
								k := min(len(wire), 1+rng.IntN(3*len(wire)/2+1))
								to.Feed(wire[:k])
								wire = wire[k:]
							}
							for {
								n, err, skipped := checkedRead(t, to, buf[:1+rng.IntN(len(buf)-1)])
								if skipped {
									idle++
								}
								got = append(got, buf[:n]...)
								if errors.Is(err, ssl.ErrWantRead) {
									break
								}
								if err != nil {
									t.Fatal(err)
								}
							}
							move(to, from, 0)
						}
					}
					if string(got) != string(sent) {
						t.Fatalf("%d bytes received of %d, or different", len(got), len(sent))
					}
				}
				if idle == 0 {
					t.Error("no read was answered without libssl")
				}
				// close_notify after data in one feed: data, then io.EOF.
				s.e.Write([]byte("last"))
				if err := s.e.Shutdown(); err != nil {
					t.Fatal(err)
				}
				move(s.e, c.e, 0)
				rb := make([]byte, 100)
				if n, err, _ := checkedRead(t, c.e, rb); n != 4 || err != nil {
					t.Fatalf("last data %d %v", n, err)
				}
				for range 2 { // and again: the end stays the end
					if n, err, skipped := checkedRead(t, c.e, rb); n != 0 || err != io.EOF || skipped {
						t.Fatalf("after close_notify %d %v (idle %v)", n, err, skipped)
					}
				}
				// The transport's end while idle is a truncation.
				c.e.Write([]byte("x"))
				move(c.e, s.e, 0)
				if n, err, _ := checkedRead(t, s.e, rb); n != 1 || err != nil {
					t.Fatalf("server read %d %v", n, err)
				}
				if !s.e.readIdle {
					t.Error("the server is not idle with nothing to read")
				}
				s.e.FeedEOF()
				if _, err, skipped := checkedRead(t, s.e, rb); !errors.Is(err, ssl.ErrUncleanShutdown) || !skipped {
					t.Errorf("end of the transport: %v (idle %v)", err, skipped)
				}
			})
		}
	}
}
