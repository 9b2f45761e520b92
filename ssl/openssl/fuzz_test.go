//go:build cgo && linux

package openssl

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// clientHello returns the first flight of a client engine.
func clientHello(t testing.TB, proto ssl.Protocol) []byte {
	var cfg ssl.Configuration
	cfg.SetProtocol(proto)
	e, err := newEngine(ssl.SessionParams{Config: cfg, Hooks: &testHooks{}, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Handshake(); !errors.Is(err, ssl.ErrWantRead) {
		t.Fatal(err)
	}
	out := make([]byte, e.PendingOutput())
	e.TakeOutput(out)
	return out
}

// FuzzServerEngine feeds arbitrary bytes to a server engine, in two
// pieces, with and without EOF: libssl must fail cleanly (an error, a
// want, never a crash), and a failure must be latched.
func FuzzServerEngine(f *testing.F) {
	p := newTestPKI(f)
	scfg := p.serverConfig(p.server)
	scfg.SetAllowedNextProtocols([]string{"h2", "http/1.1"})
	scfg.SetPreSharedKeyIdentityHint([]byte("hint"))
	hello12, hello13 := clientHello(f, ssl.TlsV1_2), clientHello(f, ssl.TlsV1_3)
	f.Add(hello13, uint16(len(hello13)/2), false)
	f.Add(hello12, uint16(10), true)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint16(3), false)
	f.Add([]byte{22, 3, 1, 0xff, 0xff}, uint16(5), true)
	f.Add(append(bytes.Clone(hello13), 21, 3, 3, 0, 2, 2, 40), uint16(0), false)
	f.Fuzz(func(t *testing.T, data []byte, split uint16, eof bool) {
		hooks := &testHooks{psk13: true, psk: func(a *ssl.PreSharedKeyAuthenticator) error {
			a.SetPreSharedKey([]byte("fuzz key"))
			return nil
		}}
		e, err := newEngine(ssl.SessionParams{Server: true, Config: scfg, Hooks: hooks})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		cut := min(int(split), len(data))
		e.Feed(data[:cut])
		first := e.Handshake()
		e.Feed(data[cut:])
		if eof {
			e.FeedEOF()
		}
		err = e.Handshake()
		if err == nil {
			t.Fatalf("a handshake completed on fuzzed input %x", data)
		}
		if !errors.Is(err, ssl.ErrWantRead) && !errors.Is(err, ssl.ErrWantRetryVerify) {
			if again := e.Handshake(); again != err {
				t.Fatalf("error not latched: %v then %v", err, again)
			}
			if eof && !errors.Is(first, ssl.ErrWantRead) && first != nil && first != err {
				t.Fatalf("first error %v, then %v", first, err)
			}
		}
		e.TakeOutput(make([]byte, ssl.MaxPendingOutput))
		e.State()
	})
}

// FuzzDecodeTicket: the session container a user hands back must never
// crash the parser; what decodes encodes back to the same bytes.
func FuzzDecodeTicket(f *testing.F) {
	p := newTestPKI(f)
	f.Add(encodeTicket([]byte{0x30, 3, 2, 1, 1}, []ssl.Certificate{certOf(p.server), certOf(p.root)}))
	f.Add([]byte(ticketMagic))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sess, chain, err := decodeTicket(data)
		if err != nil {
			return
		}
		if again := encodeTicket(sess, chain); !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs:\n%x\n%x", data, again)
		}
	})
}
