package ssl

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
	"unsafe"
)

// verifyCache remembers chains that verified without any error, so that
// connecting again to the same server (and resuming its sessions) does not
// pay for path building and signature checks again. Only error-free
// results are kept; the key covers every input of the verification — the
// presented chain, the trust anchors, host name, depth and purpose — and an
// entry is only used inside the validity window of all its certificates.
type verifyCache struct {
	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	notBefore, notAfter time.Time
	anchors             []*x509.Certificate // keeps the anchors (whose addresses are in the key) alive
}

// maxCacheEntries bounds the cache; when full it is cleared.
const maxCacheEntries = 1024

var cleanChains = &verifyCache{entries: map[[32]byte]cacheEntry{}}

// cacheKey hashes the inputs. Anchors are identified by the address of
// their parsed certificate: configurations share those, and the entry keeps
// them alive so that an address cannot be reused while it is in the cache.
func (v *verification) cacheKey() [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, x := range v.presented {
		binary.BigEndian.PutUint64(n[:], uint64(len(x.Raw)))
		h.Write(n[:])
		h.Write(x.Raw)
	}
	h.Write([]byte{0xff})
	for _, r := range v.roots {
		binary.BigEndian.PutUint64(n[:], uint64(uintptr(unsafe.Pointer(r))))
		h.Write(n[:])
	}
	h.Write([]byte{0xfe})
	h.Write([]byte(v.host))
	binary.BigEndian.PutUint64(n[:], uint64(v.depth)<<8|uint64(v.purpose))
	h.Write(n[:])
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// lookup reports whether an identical verification came out clean and
// still applies at v.now.
func (c *verifyCache) lookup(v *verification) bool {
	k := v.cacheKey()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	return ok && !v.now.Before(e.notBefore) && !v.now.After(e.notAfter)
}

// store records a clean verification.
func (c *verifyCache) store(v *verification) {
	e := cacheEntry{anchors: v.roots}
	for i, x := range append(append([]*x509.Certificate(nil), v.presented...), v.roots...) {
		if i == 0 || x.NotBefore.After(e.notBefore) {
			e.notBefore = x.NotBefore
		}
		if i == 0 || x.NotAfter.Before(e.notAfter) {
			e.notAfter = x.NotAfter
		}
	}
	k := v.cacheKey()
	c.mu.Lock()
	if len(c.entries) >= maxCacheEntries {
		c.entries = map[[32]byte]cacheEntry{}
	}
	c.entries[k] = e
	c.mu.Unlock()
}
