package ssl

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAlpnNegotiation(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		tests := []struct {
			name               string
			server, client     []string
			want               string
			serverSt, clientSt NextProtocolNegotiationStatus
			fail               bool
		}{
			{"Qt's allowedProtocolNegotiation case", []string{"cool-protocol", "not-so-cool-protocol"},
				[]string{"uber-cool-protocol", "cool-protocol", "not-so-cool-protocol"}, "cool-protocol",
				NextProtocolNegotiationNegotiated, NextProtocolNegotiationNegotiated, false},
			// Measured on Qt 6.4.2 (OpenSSL): the client's order wins.
			{"client preference wins", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, "http/1.1",
				NextProtocolNegotiationNegotiated, NextProtocolNegotiationNegotiated, false},
			// RFC 7301: no overlap ends the handshake with no_application_protocol.
			{"no overlap: no_application_protocol", []string{"h2"}, []string{"x-one", "x-two"}, "", 0, 0, true},
			{"client offers nothing", []string{"h2"}, nil, "", NextProtocolNegotiationNone, NextProtocolNegotiationNone, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				scfg := p.serverConfig(p.server)
				scfg.SetAllowedNextProtocols(tc.server)
				ccfg := p.clientConfig()
				ccfg.SetAllowedNextProtocols(tc.client)
				var sent, received []AlertType
				var mu sync.Mutex
				client, server, cOK, sOK := handshakePair(t, ccfg, scfg, func(c, s *Socket) {
					c.OnAlertReceived(func(_ AlertLevel, a AlertType, _ string) { mu.Lock(); received = append(received, a); mu.Unlock() })
					s.OnAlertSent(func(_ AlertLevel, a AlertType, _ string) { mu.Lock(); sent = append(sent, a); mu.Unlock() })
				})
				if tc.fail {
					if cOK || sOK {
						t.Fatal("the handshake must fail without an overlap")
					}
					server.WaitForDisconnected(5 * time.Second)
					client.WaitForDisconnected(5 * time.Second)
					mu.Lock()
					defer mu.Unlock()
					if !slices.Contains(received, AlertNoApplicationProtocol) || !slices.Contains(sent, AlertNoApplicationProtocol) {
						t.Errorf("alerts: server sent %v, client received %v", sent, received)
					}
					return
				}
				if !cOK || !sOK {
					t.Fatalf("handshake: %s / %s", client.ErrorString(), server.ErrorString())
				}
				cc, sc := client.SslConfiguration(), server.SslConfiguration()
				if cc.NextNegotiatedProtocol() != tc.want || cc.NextProtocolNegotiationStatus() != tc.clientSt {
					t.Errorf("client: %q %v", cc.NextNegotiatedProtocol(), cc.NextProtocolNegotiationStatus())
				}
				wantServer := tc.want
				if tc.serverSt == NextProtocolNegotiationUnsupported {
					wantServer = NextProtocolHttp1_1
				}
				if sc.NextNegotiatedProtocol() != wantServer || sc.NextProtocolNegotiationStatus() != tc.serverSt {
					t.Errorf("server: %q %v", sc.NextNegotiatedProtocol(), sc.NextProtocolNegotiationStatus())
				}
			})
		}
	})
}

func TestAlpnInterop(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", "-alpn", "h2,http/1.1")
		s := NewSocket()
		defer s.Abort()
		cfg := p.clientConfig()
		cfg.SetAllowedNextProtocols([]string{"http/1.1"})
		s.SetSslConfiguration(cfg)
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(10*time.Second) || s.SslConfiguration().NextNegotiatedProtocol() != "http/1.1" {
			t.Errorf("against s_server -alpn: %q (%s)", s.SslConfiguration().NextNegotiatedProtocol(), s.ErrorString())
		}
		scfg := p.serverConfig(p.server)
		scfg.SetAllowedNextProtocols([]string{"x-custom", "h2"})
		sport := startServer(t, scfg, lineEchoServer)
		out := sClient(t, dir, sport, "q\n", "-CAfile", "root.pem", "-alpn", "h2,x-custom")
		if !strings.Contains(out, "ALPN protocol: h2") { // the client's preference, as Qt on OpenSSL
			t.Errorf("s_client -alpn against our server:\n%s", out)
		}
	})
}
