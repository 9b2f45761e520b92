//go:build cgo && linux

package openssl

// register makes the backend known to package ssl. Until the sans-IO
// contract is on main, the engine is used by this package's tests only.
func register() {}
