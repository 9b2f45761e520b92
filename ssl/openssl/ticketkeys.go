//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/sslsocket/sslsocket/ssl"
)

// Shared session ticket keys (ssl.Configuration.SetSessionTicketKeys) on
// this backend: a server context with them has libssl's ticket key
// callback (shim.c ticket_key_callback), which asks the connection's
// engine for the key here. The key's parts are used as HAProxy uses them:
// its 16-byte name starts the ticket (libssl's layout), its AES key (32
// or 16 bytes) encrypts with AES-CBC, its HMAC key authenticates with
// HMAC-SHA256; libcrypto does the cryptography.

// sslsockTicketKey picks the key: encrypting (enc 1) the source's first,
// whose name it writes to name; decrypting (enc 0) the one name names,
// remembered as the session's. It copies the key's parts to aes and hmac
// (32 bytes each in C) and returns 1 (the encrypting key), 2 (decrypting
// with an older key: libssl then renews the ticket), 0 (no key: no ticket,
// or a full handshake) or -1 (a hook panicked).
//
//export sslsockTicketKey
func sslsockTicketKey(h C.uintptr_t, enc C.int, name *C.uchar, aes *C.uchar, aesLen *C.int, hmac *C.uchar, hmacLen *C.int) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, -1)
	if e.ticketKeys == nil {
		return 0
	}
	keys := e.ticketKeys.TicketKeys()
	if keys.Len() == 0 {
		return 0
	}
	nameBuf := unsafe.Slice((*byte)(unsafe.Pointer(name)), 16)
	i := 0
	if enc != 0 {
		n := keys.Name(0)
		copy(nameBuf, n[:])
	} else if i = keys.Index(nameBuf); i < 0 {
		return 0
	}
	aesKey, hmacKey := keys.Secret(i)
	defer clear(aesKey)
	defer clear(hmacKey)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(aes)), 32), aesKey)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(hmac)), 32), hmacKey)
	*aesLen, *hmacLen = C.int(len(aesKey)), C.int(len(hmacKey))
	if enc != 0 {
		return 1
	}
	e.ticketKeyID = keys.ID(i)
	if i > 0 {
		return 2
	}
	return 1
}

// offeredTicketKeyID is the identifier of the key named at the start of
// the ticket in a serialized client session, or "".
func offeredTicketKeyID(session []byte) string {
	if len(session) == 0 {
		return ""
	}
	var name [16]byte
	if C.shim_session_ticket_name(cbytes(session), C.int(len(session)), (*C.uchar)(unsafe.Pointer(&name[0]))) != 1 {
		return ""
	}
	return ssl.TicketKeyID(name[:])
}
