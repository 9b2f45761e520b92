//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#cgo CFLAGS: -O2 -Wall -Wno-unused-function
#cgo linux LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"
)

var (
	// loadErr is nil once libssl is loaded, else why it is not.
	loadErr error
	// The running library's version (OpenSSL_version_num, OpenSSL_version).
	versionNumber int64
	versionString string
)

func init() {
	loadErr = loadFirst(libraryCandidates(runtime.GOOS, os.Getenv))
	if loadErr != nil {
		return
	}
	versionNumber = int64(C.shim_version_num())
	versionString = C.GoString(C.shim_version_string())
	register()
}

// loadFirst loads the first candidate pair that is OpenSSL 3, or says why
// none is.
func loadFirst(candidates []libraryPair) error {
	if len(candidates) == 0 {
		return fmt.Errorf("ssl/openssl: no OpenSSL 3 library names are known for %s: set %s and %s",
			runtime.GOOS, envLibcrypto, envLibssl)
	}
	var why []string
	for _, c := range candidates {
		err := load(c.crypto, c.ssl)
		if err == nil {
			return nil
		}
		why = append(why, err.Error())
	}
	if len(why) == 1 {
		return errors.New(why[0])
	}
	return errors.New(strings.Join(why, "; "))
}

// load dlopens the two libraries and resolves what the shim uses.
func load(cryptoName, sslName string) error {
	cc, cs := C.CString(cryptoName), C.CString(sslName)
	defer C.free(unsafe.Pointer(cc))
	defer C.free(unsafe.Pointer(cs))
	var why [512]C.char
	if C.shim_load(cc, cs, &why[0], C.size_t(len(why))) == 0 {
		return fmt.Errorf("ssl/openssl: cannot load %s and %s: %s", cryptoName, sslName, C.GoString(&why[0]))
	}
	return nil
}

// Available reports whether libssl 3 was loaded and the backend registered.
func Available() bool { return loadErr == nil }

// LoadError says why the backend is absent (nil when it is available).
func LoadError() error { return loadErr }

// Error is a failure reported by libssl: the first packed error code of
// OpenSSL's error queue and the text of every queued error, in
// ERR_error_string_n's format ("error:0A00010B:SSL routines::wrong version
// number"), which is what Qt puts after "Error during SSL handshake: ".
type Error struct {
	// Op is the operation that failed ("handshake", "read", "write",
	// "shutdown", or a configuration step).
	Op string
	// Code is OpenSSL's packed error code (ERR_get_error), 0 when the
	// queue was empty.
	Code uint64
	// Reason is ERR_GET_REASON(Code).
	Reason int
	// Text is the queued errors' text, ", "-separated.
	Text string

	cause error
}

// Error returns the OpenSSL text, or a generic one when the queue was empty.
func (e *Error) Error() string {
	if e.Text != "" {
		return e.Text
	}
	return "ssl/openssl: " + e.Op + " failed"
}

// Unwrap returns io.EOF when the transport ended during the handshake.
func (e *Error) Unwrap() error { return e.cause }

// errorFrom converts a shim_err.
func errorFrom(op string, e *C.shim_err) *Error {
	return &Error{Op: op, Code: uint64(e.code), Reason: int(e.reason), Text: C.GoString(&e.text[0])}
}

// errClosed is returned by every method of a closed engine.
var errClosed = errors.New("ssl/openssl: engine closed")
