//go:build cgo && linux

package openssl

import (
	"os"
	"testing"
)

// TestMain frees the context cache after the tests, so that a leak checker
// (go test -asan, valgrind) sees only what the engines failed to free.
func TestMain(m *testing.M) {
	code := m.Run()
	flushContexts()
	os.Exit(code)
}
