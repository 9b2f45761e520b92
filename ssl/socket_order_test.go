package ssl

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQtEventOrder checks the event sequences of the client paths that
// shared/reference/qt-measured.md records for Qt 6.4.2 (§1), with our
// deliberate differences (docs/architecture.md): an alert is reported
// only when it is really sent or received, so there is no alertSent
// (close_notify) on abort, close or failure; a verification failure sends
// bad_certificate (reported where it happens); Close sends close_notify;
// stateChanged(Closing) is emitted once, not twice.
func TestQtEventOrder(t *testing.T) {
	checkNoLeaks(t)
	const prefix = "stateChanged(HostLookupState) stateChanged(ConnectingState) hostFound stateChanged(ConnectedState) modeChanged(SslClientMode) connected"
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), func(s *Socket) {
			if !s.WaitForEncrypted(5 * time.Second) {
				return
			}
			buf := make([]byte, 100)
			n, _ := s.Read(buf)
			switch string(buf[:n]) {
			case "close-notify\n":
				s.DisconnectFromHost()
			case "tcp-close\n":
				s.mu.Lock()
				raw := s.raw
				s.mu.Unlock()
				raw.Close()
			default:
				s.Write(buf[:n])
			}
			s.WaitForDisconnected(5 * time.Second)
		})
		cases := []struct {
			name  string
			setup func(s *Socket)
			want  string
		}{
			{"happy path, disconnect in readyRead", func(s *Socket) {
				s.OnEncrypted(func() { s.Write([]byte("hello\n")) })
				s.OnReadyRead(func() { s.ReadAll(); s.DisconnectFromHost() })
			}, prefix + " encrypted stateChanged(ClosingState) alertSent(Warning,CloseNotify) stateChanged(UnconnectedState) readChannelFinished disconnected"},
			{"verification failure", func(s *Socket) { s.SetPeerVerifyName("wrong.example") },
				prefix + " peerVerifyError(HostNameMismatch) sslErrors(1) alertSent(Fatal," + alertName(hostMismatchAlert(m.backend)) +
					") errorOccurred(SslHandshakeFailedError) stateChanged(ClosingState) stateChanged(UnconnectedState) readChannelFinished disconnected"},
			{"peer close_notify", func(s *Socket) { s.OnEncrypted(func() { s.Write([]byte("close-notify\n")) }) },
				// Qt's: the close_notify ("The TLS/SSL connection has been
				// closed") leaves the socket Connected; the FIN right after
				// it ("The remote host closed the connection") disconnects.
				// Nothing is sent back.
				prefix + " encrypted alertReceived(Warning,CloseNotify) errorOccurred(RemoteHostClosedError) errorOccurred(RemoteHostClosedError) stateChanged(ClosingState) stateChanged(UnconnectedState) readChannelFinished disconnected"},
			{"peer TCP close", func(s *Socket) { s.OnEncrypted(func() { s.Write([]byte("tcp-close\n")) }) },
				prefix + " encrypted errorOccurred(RemoteHostClosedError) stateChanged(ClosingState) stateChanged(UnconnectedState) readChannelFinished disconnected"},
			{"abort in readyRead", func(s *Socket) {
				s.OnEncrypted(func() { s.Write([]byte("x\n")) })
				s.OnReadyRead(func() { s.Abort() })
			}, prefix + " encrypted stateChanged(UnconnectedState) readChannelFinished disconnected"},
			{"close in readyRead", func(s *Socket) {
				s.OnEncrypted(func() { s.Write([]byte("x\n")) })
				s.OnReadyRead(func() { s.Close() })
			}, prefix + " encrypted stateChanged(ClosingState) alertSent(Warning,CloseNotify) stateChanged(UnconnectedState) readChannelFinished disconnected"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := NewSocket()
				s.SetSslConfiguration(p.clientConfig())
				r := recordAll(s)
				tc.setup(s)
				s.ConnectToHostEncrypted("localhost", port)
				// The context form: the whole connection may be over before
				// the wait starts (WaitForDisconnected is false then, as in Qt).
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := s.WaitForDisconnectedContext(ctx); err != nil {
					t.Fatalf("not disconnected: %v %v", err, r.list())
				}
				if got := strings.Join(r.list(), " "); got != tc.want {
					t.Errorf("events\n got: %s\nwant: %s", got, tc.want)
				}
			})
		}
		t.Run("EOF during the handshake", func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				if c, err := l.Accept(); err == nil {
					c.Close()
				}
			}()
			s := NewSocket()
			r := recordAll(s)
			s.ConnectToHostEncrypted("127.0.0.1", uint16(l.Addr().(*net.TCPAddr).Port))
			s.WaitForDisconnected(5 * time.Second)
			want := prefix + " errorOccurred(RemoteHostClosedError) stateChanged(ClosingState) stateChanged(UnconnectedState) readChannelFinished disconnected"
			if got := strings.Join(r.list(), " "); got != want {
				t.Errorf("events\n got: %s\nwant: %s", got, want)
			}
		})
		t.Run("connection refused", func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := uint16(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			s := NewSocket()
			r := recordAll(s)
			s.ConnectToHostEncrypted("127.0.0.1", port)
			s.WaitForDisconnected(5 * time.Second)
			time.Sleep(50 * time.Millisecond) // nothing more may follow
			want := []string{"stateChanged(HostLookupState)", "stateChanged(ConnectingState)", "hostFound",
				"stateChanged(UnconnectedState)", "errorOccurred(ConnectionRefusedError)"}
			if got := r.list(); !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
		})
	})
}

// recordAll is record plus readChannelFinished and alerts.
func recordAll(s *Socket) *recorder {
	r := record(s)
	s.OnReadChannelFinished(func() { r.add("readChannelFinished") })
	s.OnAlertSent(func(l AlertLevel, a AlertType, _ string) { r.add("alertSent(%v,%v)", l, alertName(a)) })
	s.OnAlertReceived(func(l AlertLevel, a AlertType, _ string) { r.add("alertReceived(%v,%v)", l, alertName(a)) })
	return r
}

func alertName(a AlertType) string { return strings.TrimPrefix(a.String(), "Alert") }

// hostMismatchAlert is the alert a client sends when the host name does
// not match: OpenSSL's handshake_failure where the backend can choose
// (VerificationError.AlertType), crypto/tls's bad_certificate on go.
func hostMismatchAlert(backend string) AlertType {
	if backend == "openssl" {
		return AlertHandshakeFailure
	}
	return AlertBadCertificate
}
