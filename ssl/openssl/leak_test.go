//go:build cgo && linux

package openssl

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// rss is the process's resident set size in bytes (/proc/self/statm).
func rss(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// settledRSS frees what Go can before measuring.
func settledRSS(t testing.TB) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rss(t)
}

// TestTenThousandHandshakesKeepRSSStable: every SSL, BIO, session and
// handle is freed. A leak of one SSL object (tens of KiB) or even one
// certificate copy (hundreds of bytes) per handshake would add far more
// than the bound over 10,000 handshakes.
func TestTenThousandHandshakesKeepRSSStable(t *testing.T) {
	p := newTestPKI(t)
	ccfg := p.clientConfig()
	ccfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	ccfg.SetAllowedNextProtocols([]string{"h2"})
	scfg := p.serverConfig(p.server)
	scfg.SetAllowedNextProtocols([]string{"h2"})
	scfg.SetOcspStaple([]byte("staple"))
	ccfg.SetOcspStaplingEnabled(true)
	round := func(i int) {
		c, err := newEngine(ssl.SessionParams{Config: ccfg, Hooks: &testHooks{}, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := newEngine(ssl.SessionParams{Server: true, Config: scfg, Hooks: &testHooks{}})
		if err != nil {
			t.Fatal(err)
		}
		if cerr, serr := handshake(c, s, 0); cerr != nil || serr != nil {
			t.Fatalf("round %d: %v %v", i, cerr, serr)
		}
		s.Write([]byte("x")) // the client reads the tickets too
		move(s, c, 0)
		c.Read(make([]byte, 8))
		c.State()
		s.State()
		c.Close()
		s.Close()
	}
	for i := range 2000 { // fills the server's session cache (1,024)
		round(i)
	}
	before := settledRSS(t)
	const n = 10000
	for i := range n {
		round(i)
	}
	after := settledRSS(t)
	growth := after - before
	t.Logf("RSS after 2,000 warm-up handshakes %.1f MiB, after %d more %.1f MiB (growth %+.1f KiB, %+.0f bytes per handshake)",
		float64(before)/(1<<20), n, float64(after)/(1<<20), float64(growth)/1024, float64(growth)/n)
	if growth > 4<<20 {
		t.Errorf("RSS grew by %d KiB over %d handshakes", growth>>10, n)
	}
}
