package ssl

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkNoLeaks fails the test if, after it and its cleanups, goroutines of
// this package's sockets are still running. Register it first, so that it
// runs last.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked := socketGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d socket goroutine(s) leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func socketGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		ours := strings.Contains(s, "ssl.(*Socket).") || strings.Contains(s, "ssl.(*goCore).") ||
			strings.Contains(s, "ssl.(*pumpStream).") || strings.Contains(s, "ssl.(*Engine).") || strings.Contains(s, "ssl.(*eventHub).work") ||
			strings.Contains(s, "ssl.(*goStream).") || strings.Contains(s, "ssl.drainThenClose")
		if ours && !strings.Contains(s, "ssl.socketGoroutines") &&
			!strings.Contains(s, "testing.tRunner") {
			out = append(out, s)
		}
	}
	return out
}
