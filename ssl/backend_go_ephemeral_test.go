package ssl

import (
	"testing"
	"time"
)

func TestEphemeralServerKey(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	tests := []struct {
		name   string
		curve  string
		proto  Protocol
		alg    KeyAlgorithm
		length int
	}{
		{"default group (hybrid): its X25519 part", "", TlsV1_3, Opaque, 253},
		{"X25519, TLS 1.3", "X25519", TlsV1_3, Opaque, 253},
		{"P-384, TLS 1.3", "secp384r1", TlsV1_3, Ec, 384},
		{"P-256, TLS 1.2", "prime256v1", TlsV1_2, Ec, 256},
		{"X25519, TLS 1.2", "X25519", TlsV1_2, Opaque, 253},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ccfg := p.clientConfig()
			ccfg.SetProtocol(tc.proto)
			if tc.curve != "" {
				ccfg.SetEllipticCurves([]EllipticCurve{CurveFromShortName(tc.curve)})
			}
			client, server, cOK, sOK := handshakePair(t, ccfg, p.serverConfig(p.server), nil)
			if !cOK || !sOK {
				t.Fatal(client.ErrorString())
			}
			k := client.SslConfiguration().EphemeralServerKey()
			if k.IsNull() || k.Type() != PublicKey || k.Algorithm() != tc.alg || k.Length() != tc.length {
				t.Errorf("key: null %v, %v %v %d", k.IsNull(), k.Type(), k.Algorithm(), k.Length())
			}
			if !server.SslConfiguration().EphemeralServerKey().IsNull() {
				t.Error("servers have no ephemeral server key")
			}
		})
	}
}

func TestEphemeralServerKeyFromOpenSSL(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	dir := pkiFiles(t, p)
	port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", "-groups", "P-256")
	s := NewSocket()
	defer s.Abort()
	s.SetSslConfiguration(p.clientConfig())
	s.ConnectToHostEncrypted("localhost", port)
	if !s.WaitForEncrypted(10 * time.Second) {
		t.Fatal(s.ErrorString())
	}
	if k := s.SslConfiguration().EphemeralServerKey(); k.Algorithm() != Ec || k.Length() != 256 {
		t.Errorf("key from s_server -groups P-256: %v %d", k.Algorithm(), k.Length())
	}
}
