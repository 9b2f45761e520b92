package ssl

import (
	"errors"
	"testing"
)

// FuzzEngine feeds random bytes, in random cuts, to a server engine from
// the start and to a client engine mid-handshake (its ClientHello sent,
// the server's answer replaced by the noise): whatever arrives, the engines must end in a clear state —
// progress, a want, or an error — never a panic or a hang, and Close must
// leave no goroutine behind (the leak check of the seed-corpus run).
func FuzzEngine(f *testing.F) {
	p := newTestPKI(f)
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0}, uint8(3), false)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(0), false)
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 2, 40}, uint8(1), true)
	f.Add([]byte{0x17, 0x03, 0x03, 0x40, 0x01}, uint8(2), true)
	f.Fuzz(func(t *testing.T, data []byte, cut uint8, client bool) {
		c, s := enginePair(t, p, "go", p.clientConfig())
		target := s
		if client {
			// A real ClientHello reaches the server; the noise answers it.
			c.Handshake()
			shuttle(t, c, s, 0)
			s.Handshake()
			target = c
		}
		step := int(cut)%64 + 1
		for off := 0; off < len(data); off += step {
			target.Feed(data[off:min(len(data), off+step)])
			err := target.Handshake()
			target.TakeOutput(make([]byte, MaxPendingOutput))
			if err != nil && !errors.Is(err, ErrWantRead) && !errors.Is(err, ErrWantWrite) {
				if !errors.Is(err, SslHandshakeFailedError) && !errors.Is(err, RemoteHostClosedError) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				break
			}
		}
		target.FeedEOF()
		if err := target.Handshake(); err == nil {
			t.Fatal("noise completed a handshake")
		}
		c.Close()
		s.Close()
	})
}
