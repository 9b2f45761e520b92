//go:build cgo && !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

import (
	"errors"
	"runtime"
)

// loadErr says why the backend is absent from this build.
var loadErr = errors.New("ssl/openssl: not built in: the run-time loader is written for Linux, macOS and the BSDs, not " + runtime.GOOS)
