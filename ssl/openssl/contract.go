//go:build cgo && linux

package openssl

import "errors"

// Until package ssl's sans-IO contract lands, the engine's sentinels are
// its own; they become ssl.ErrWantRead, ssl.ErrWantWrite,
// ssl.ErrWantRetryVerify and ssl.MaxPendingOutput.
var (
	errWantRead        = errors.New("ssl: want read")
	errWantWrite       = errors.New("ssl: want write")
	errWantRetryVerify = errors.New("ssl: handshake paused for the verification decision")
)

const maxPendingOutput = 64 << 10
