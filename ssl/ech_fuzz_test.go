package ssl

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzECHConfigList: no list makes the parser panic, and a list it
// accepts is one crypto/tls's client accepts too (it builds a ClientHello
// whose clear part carries the public name we reported).
func FuzzECHConfigList(f *testing.F) {
	k1, _ := GenerateEncryptedClientHelloKey("public.example")
	k2, _ := GenerateEncryptedClientHelloKey("other.example")
	good, _ := MarshalECHConfigList(k1, k2)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(k1.Config())
	f.Add([]byte{0, 4, 0xfe, 0x0d, 0, 0})
	f.Fuzz(func(t *testing.T, list []byte) {
		var cfg Configuration
		if err := cfg.SetEncryptedClientHelloConfigList(list); err != nil {
			if !errors.Is(err, ErrMalformedECHConfigList) {
				t.Fatalf("error not matching ErrMalformedECHConfigList: %v", err)
			}
			return
		}
		if len(list) == 0 {
			return // ECH off
		}
		cfg.SetBackend("go")
		e, err := NewClientEngine(cfg, "secret.example")
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if err := e.Handshake(); !errors.Is(err, ErrWantRead) {
			t.Fatalf("crypto/tls refused a list we accepted: %v", err)
		}
		out := make([]byte, MaxPendingOutput)
		hello := out[:e.TakeOutput(out)]
		if !bytes.Contains(hello, []byte(cfg.EncryptedClientHelloPublicName())) || bytes.Contains(hello, []byte("secret.example")) {
			t.Fatalf("the clear ClientHello does not carry the public name %q alone", cfg.EncryptedClientHelloPublicName())
		}
	})
}

// FuzzECHKeyFile: no file makes the key-file parser panic, and what it
// accepts round-trips.
func FuzzECHKeyFile(f *testing.F) {
	k, _ := GenerateEncryptedClientHelloKey("public.example")
	data, _ := MarshalEncryptedClientHelloKeys(k)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseEncryptedClientHelloKeys(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedECHKeyFile) {
				t.Fatalf("error not matching ErrMalformedECHKeyFile: %v", err)
			}
			return
		}
		again, err := MarshalEncryptedClientHelloKeys(keys...)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseEncryptedClientHelloKeys(again)
		if err != nil || len(back) != len(keys) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range keys {
			if !bytes.Equal(back[i].Config(), keys[i].Config()) || !bytes.Equal(back[i].private, keys[i].private) {
				t.Fatalf("key %d differs after the round trip", i)
			}
		}
	})
}
