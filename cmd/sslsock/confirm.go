package main

import (
	"context"
	"crypto/tls"
	"sync/atomic"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// The server's confirmation of a handshake.
//
// In TLS 1.2 the server's Finished, the last message of the client's
// handshake, comes after the server has checked the client: a handshake
// that completes has been accepted. In TLS 1.3 the client's handshake ends
// when it sends its own Finished, and the server checks the client's
// certificate (and that Finished) only after that: a server that rejects
// them says so with a fatal alert (certificate_required, bad_certificate,
// …) that arrives after the client considers itself connected. connect
// does not guess from a timer: after a TLS 1.3 handshake it waits for the
// server's first record — a session ticket (OpenSSL, crypto/tls, nginx and
// most servers send one at once), data, an alert — or the end of the
// connection, for at most --confirm-timeout. A server that sends neither
// tickets nor data before the client speaks cannot be confirmed that way:
// standard input is relayed meanwhile, so its answer confirms it, and after
// the timeout the verdict says that the server has not confirmed.

// Confirmation values: how the server confirmed the handshake (the report's
// "confirmation" field).
const (
	confirmedByFinished = "handshake" // TLS 1.2 and earlier: the server's Finished
	confirmedByTicket   = "ticket"    // TLS 1.3: a session ticket
	confirmedByData     = "data"      // application data
	confirmedByAlert    = "alert"     // a fatal alert: the connection failed
	confirmedByClose    = "closed"    // the server closed the connection
	notConfirmed        = "none"      // nothing within --confirm-timeout
)

// confirmWatch collects the events that tell what the server did after the
// handshake. It is armed by the encrypted event, so that a STARTTLS
// prelude's data says nothing; handlers run in emission order.
type confirmWatch struct {
	armed  atomic.Bool
	ticket atomic.Bool
	data   atomic.Bool
	alert  atomic.Bool
	closed atomic.Bool
	signal chan struct{} // one pending wake-up
}

// watchConfirmation subscribes to sock's events; call it before connecting.
func watchConfirmation(sock *ssl.Socket) *confirmWatch {
	w := &confirmWatch{signal: make(chan struct{}, 1)}
	sock.OnEncrypted(func() { w.armed.Store(true) })
	wake := func() {
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
	note := func(flag *atomic.Bool) func() {
		return func() {
			if w.armed.Load() {
				flag.Store(true)
				wake()
			}
		}
	}
	// A ticket comes only after a handshake: it counts even if its event
	// ran before the encrypted one.
	sock.OnNewSessionTicketReceived(func() { w.ticket.Store(true); wake() })
	sock.OnReadyRead(note(&w.data))
	sock.OnAlertReceived(func(l ssl.AlertLevel, _ ssl.AlertType, _ string) {
		if l == ssl.AlertLevelFatal {
			note(&w.alert)()
		} else {
			note(&w.closed)() // close_notify, user_canceled
		}
	})
	sock.OnErrorOccurred(func(ssl.SocketError) { note(&w.closed)() }) // close_notify, a reset
	sock.OnReadChannelFinished(note(&w.closed))
	sock.OnDisconnected(note(&w.closed))
	return w
}

// outcome is what has been seen so far ("" for nothing), strongest first:
// an alert says the most, a close the least.
func (w *confirmWatch) outcome(sock *ssl.Socket) string {
	switch {
	case w.alert.Load():
		return confirmedByAlert
	case w.data.Load() || sock.BytesAvailable() > 0:
		return confirmedByData
	case w.ticket.Load():
		return confirmedByTicket
	case w.closed.Load() || sock.State() != ssl.ConnectedState:
		return confirmedByClose
	}
	return ""
}

// wait returns how the server confirmed a handshake of version: at once
// for TLS 1.2 and earlier, else on the server's first record or the end
// of the connection, or notConfirmed after timeout (or when ctx ends).
func (w *confirmWatch) wait(ctx context.Context, sock *ssl.Socket, version uint16, timeout time.Duration) string {
	if version != tls.VersionTLS13 {
		return confirmedByFinished
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		if got := w.outcome(sock); got != "" {
			return got
		}
		select {
		case <-w.signal:
		case <-t.C:
			if got := w.outcome(sock); got != "" {
				return got
			}
			return notConfirmed
		case <-ctx.Done():
			return notConfirmed
		}
	}
}

// waitTicket waits up to timeout for a session ticket.
func (w *confirmWatch) waitTicket(timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for !w.ticket.Load() {
		select {
		case <-w.signal:
		case <-t.C:
			return
		}
	}
}
