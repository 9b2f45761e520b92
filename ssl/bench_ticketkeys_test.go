package ssl

import (
	"crypto/tls"
	"net"
	"slices"
	"testing"
)

// BenchmarkSharedTicketKeys: resumed handshakes across two servers that
// share session ticket keys (three keys, the first encrypting, as after a
// rotation), ours (Server with Configuration.SetSessionTicketKeys) beside
// two raw crypto/tls servers with tls.Config.SetSessionTicketKeys, side by
// side in one run (speed-vs-raw; target 0.95, DESIGN.md §4). The same raw
// crypto/tls client alternates between the two servers of each pair, so
// every handshake resumes a session the other server issued.
func BenchmarkSharedTicketKeys(b *testing.B) {
	p := benchPKI(b)
	var raws [][]byte
	var rawKeys [][32]byte
	for range 3 {
		k := newRawTicketKey(b, TicketKeySize)
		raws = append(raws, k)
		rawKeys = append(rawKeys, [32]byte(newRawTicketKey(b, 32)))
	}
	keys, err := NewTicketKeys(raws...)
	if err != nil {
		b.Fatal(err)
	}
	modes := []backendMode{{name: "go", backend: "go"}, {name: "go-engine", backend: "go", engine: true}}
	if slices.Contains(AvailableBackends(), "openssl") {
		modes = append(modes, backendMode{name: "openssl", backend: "openssl"})
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var ours, raw [2]benchServer
			for i := range 2 {
				cfg := p.with(m).serverConfig(p.server)
				cfg.SetSessionTicketKeys(keys)
				srv, err := Listen("tcp", "127.0.0.1:0", cfg)
				if err != nil {
					b.Fatal(err)
				}
				ours[i] = benchServer{addr: srv.Addr().String(), close: func() { srv.Close() }, accept: func() net.Conn {
					c, err := srv.Accept()
					if err != nil {
						b.Fatal(err)
					}
					return c
				}}
				rcfg := &tls.Config{
					Certificates: []tls.Certificate{{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}},
					ClientAuth:   tls.RequestClientCert, // what our default server (AutoVerifyPeer) asks
				}
				rcfg.SetSessionTicketKeys(rawKeys)
				raw[i] = rawServerConfig(b, rcfg)
				defer ours[i].close()
				defer raw[i].close()
			}
			ocfg, rcfg := benchClientConfig(p), benchClientConfig(p)
			ours[0].round(b, ocfg, true, false) // a first full handshake each, for a ticket
			raw[0].round(b, rcfg, true, false)
			no, nr := 0, 0 // rounds so far: each resumes on the other server
			b.ReportAllocs()
			sideBySide(b, func() { no++; ours[no%2].round(b, ocfg, true, true) }, func() { nr++; raw[nr%2].round(b, rcfg, true, true) })
		})
	}
}
