package ssl

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestQtReturnValues checks the return values measured on Qt 6.4.2
// (shared/reference/qt-measured.md §4) on an encrypted client socket.
func TestQtReturnValues(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), func(s *Socket) {
			if !s.WaitForEncrypted(5 * time.Second) {
				return
			}
			buf := make([]byte, 100)
			for {
				n, err := s.Read(buf)
				if err != nil {
					return
				}
				if bytes.Equal(buf[:n], []byte("quiet\n")) {
					continue
				}
				s.Write(buf[:n])
			}
		})
		s := NewSocket()
		defer s.Close()
		s.SetSslConfiguration(p.clientConfig())
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		// Qt's flush() returns true here (its TLS 1.3 Finished still waits in
		// its write buffer); ours left during the handshake: nothing to send.
		if s.Flush() || s.EncryptedBytesToWrite() != 0 {
			t.Errorf("Flush right after the handshake: true or %d bytes pending", s.EncryptedBytesToWrite())
		}
		// Direct reads: SkipData takes what arrived without the buffered view.
		s.Write([]byte("abcdef"))
		if !s.WaitForBytesWritten(5 * time.Second) {
			t.Error("WaitForBytesWritten after a write: false")
		}
		if s.WaitForBytesWritten(300 * time.Millisecond) {
			t.Error("WaitForBytesWritten with nothing written since: true")
		}
		// SkipData takes what has arrived, without waiting: poll until the
		// echo's first three bytes are gone (a loaded machine may be slow).
		var skipped int64
		for deadline := time.Now().Add(10 * time.Second); skipped < 3 && time.Now().Before(deadline); {
			n := s.SkipData(3 - skipped)
			if n < 0 {
				t.Fatalf("SkipData on a connected socket: %d", n)
			}
			skipped += n
			if n == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if skipped != 3 {
			t.Errorf("SkipData(3) on a directly reading socket: %d in 10 s", skipped)
		}
		rest := make([]byte, 3)
		if _, err := io.ReadFull(s, rest); err != nil || string(rest) != "def" {
			t.Fatalf("after the skip: %q %v", rest, err)
		}
		// Qt's buffered view: nothing buffered on a connected socket is atEnd.
		if !s.AtEnd() || s.CanReadLine() || s.BytesAvailable() != 0 {
			t.Errorf("empty connected socket: AtEnd %v CanReadLine %v BytesAvailable %d", s.AtEnd(), s.CanReadLine(), s.BytesAvailable())
		}
		// A WaitForReadyRead timeout is also errorOccurred(SocketTimeoutError); the socket stays.
		var kinds []SocketError
		s.OnErrorOccurred(func(k SocketError) { kinds = append(kinds, k) })
		s.Write([]byte("quiet\n"))
		if s.WaitForReadyRead(300 * time.Millisecond) {
			t.Error("WaitForReadyRead without data: true")
		}
		if len(kinds) != 1 || kinds[0] != SocketTimeoutError || s.State() != ConnectedState {
			t.Errorf("after the timeout: errors %v, state %v", kinds, s.State())
		}
		s.Write([]byte("ab\ncd"))
		if !s.WaitForReadyRead(5 * time.Second) {
			t.Fatal("no echo")
		}
		deadline := time.Now().Add(5 * time.Second)
		for s.BytesAvailable() < 5 && time.Now().Before(deadline) {
			s.WaitForReadyRead(100 * time.Millisecond)
		}
		if !s.CanReadLine() || string(s.Peek(2)) != "ab" || s.SkipData(1) != 1 || string(s.ReadLine(0)) != "b\n" ||
			s.AtEnd() || string(s.ReadLine(0)) != "cd" || !s.AtEnd() {
			t.Error("Qt's line reading sequence differs")
		}
		// After abort.
		s.Abort()
		if s.SkipData(1) != -1 || !s.AtEnd() || s.BytesAvailable() != 0 || s.IsEncrypted() {
			t.Errorf("after Abort: SkipData %d AtEnd %v BytesAvailable %d", s.SkipData(1), s.AtEnd(), s.BytesAvailable())
		}
	})
}
