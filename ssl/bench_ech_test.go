package ssl

import (
	"crypto/tls"
	"testing"
	"time"
)

// BenchmarkECHHandshake: a full TLS 1.3 handshake with Encrypted Client
// Hello next to a plain one, ours (client + server Socket) and raw
// crypto/tls's, all four interleaved in one loop (the order rotating every
// round) so that a noisy machine slows them alike. Ratios: ech-cost (ECH
// time ÷ plain time, ours), raw-ech-cost (the same for crypto/tls), and
// ech-speed-vs-raw (raw ECH time ÷ our ECH time; 1.0 = as fast).
func BenchmarkECHHandshake(b *testing.B) {
	p := benchPKI(b)
	key, err := GenerateEncryptedClientHelloKey("public.example")
	if err != nil {
		b.Fatal(err)
	}
	list, err := MarshalECHConfigList(key)
	if err != nil {
		b.Fatal(err)
	}
	plainCfg := p.clientConfig()
	echCfg := p.clientConfig()
	if err := echCfg.SetEncryptedClientHelloConfigList(list); err != nil {
		b.Fatal(err)
	}
	echServer := p.serverConfig(p.server)
	echServer.SetEncryptedClientHelloKeys([]EncryptedClientHelloKey{key})
	ours := func(ccfg, scfg Configuration, ech bool) func() {
		return func() {
			cli, srv := tcpPairB(b)
			server := NewSocketFromConn(srv)
			server.SetSslConfiguration(scfg)
			client := NewSocketFromConn(cli)
			client.SetSslConfiguration(ccfg)
			client.SetPeerVerifyName("localhost")
			server.StartServerEncryption()
			client.StartClientEncryption()
			if !client.WaitForEncrypted(5*time.Second) || !server.WaitForEncrypted(5*time.Second) {
				b.Fatal(client.ErrorString(), server.ErrorString())
			}
			if client.SessionECHAccepted() != ech {
				b.Fatalf("ECH accepted %v, want %v", client.SessionECHAccepted(), ech)
			}
			client.Abort()
			server.Abort()
		}
	}
	rawS, rawC := rawConfigs(p)
	rawEchS, rawEchC := rawS.Clone(), rawC.Clone()
	rawEchS.EncryptedClientHelloKeys = []tls.EncryptedClientHelloKey{{Config: key.Config(), PrivateKey: key.private, SendAsRetry: true}}
	rawEchC.EncryptedClientHelloConfigList, rawEchC.MinVersion = list, tls.VersionTLS13
	raw := func(scfg, ccfg *tls.Config, ech bool) func() {
		return func() {
			c, s := rawPairWith(b, scfg, ccfg)
			if c.ConnectionState().ECHAccepted != ech {
				b.Fatalf("raw: ECH accepted %v, want %v", c.ConnectionState().ECHAccepted, ech)
			}
			c.Close()
			s.Close()
		}
	}
	fns := []func(){ours(echCfg, echServer, true), ours(plainCfg, p.serverConfig(p.server), false),
		raw(rawEchS, rawEchC, true), raw(rawS, rawC, false)}
	var spent [4]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range fns {
			k := (i + j) % len(fns)
			t0 := time.Now()
			fns[k]()
			spent[k] += time.Since(t0)
		}
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(spent[0]), "ours-ech-ns/op")
	b.ReportMetric(per(spent[1]), "ours-plain-ns/op")
	b.ReportMetric(per(spent[2]), "raw-ech-ns/op")
	b.ReportMetric(per(spent[3]), "raw-plain-ns/op")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "ech-cost")
	b.ReportMetric(float64(spent[2])/float64(spent[3]), "raw-ech-cost")
	b.ReportMetric(float64(spent[2])/float64(spent[0]), "ech-speed-vs-raw")
}
