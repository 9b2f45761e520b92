//go:build !cgo || !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

// Available reports whether the openssl backend is usable; in this build it never is.
func Available() bool { return false }

// LoadError says why the backend is absent.
func LoadError() error { return loadErr }
