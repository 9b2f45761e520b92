//go:build !cgo

package openssl

import "errors"

// loadErr says why the backend is absent from this build.
var loadErr = errors.New("ssl/openssl: not built in: this program was built without cgo (CGO_ENABLED=0)")
