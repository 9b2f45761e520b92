package ssl

import (
	"net"
	"time"
)

// Handshake timeouts without a timer per connection. A deadline set on
// each accepted connection (and moved after its first byte, and cleared
// after its handshake) costs several runtime timer operations per
// connection, each of which may wake the network poller: about 4 % of a
// full handshake's time on the accept path. Instead the Server keeps its
// in-flight connections with their deadlines, and one sweeper goroutine,
// running only while any is in flight, expires the overdue ones by moving
// their deadline into the past — which ends the blocked read or write
// with a timeout, exactly as a deadline would have. A timeout fires late by
// at most one sweep period (an eighth of the timeout, at most 250 ms).

// inflightConn is a connection between accept and its hand-off to Accept.
type inflightConn struct {
	conn     net.Conn
	deadline time.Time // when the sweeper expires it
	expired  bool      // the sweeper did: the connection's deadline is in the past
}

// sweepPeriod is how often the sweeper looks at the in-flight connections.
func sweepPeriod(timeout time.Duration) time.Duration {
	return min(max(timeout/8, time.Millisecond), 250*time.Millisecond)
}

// track registers sock, over conn, with the handshake timeout starting
// now, and makes sure the sweeper runs. It reports false once the server
// is closed.
func (s *Server) track(sock *Socket, conn net.Conn, timeout time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return false
	default:
	}
	s.inflight[sock] = inflightConn{conn: conn, deadline: time.Now().Add(timeout)}
	if !s.sweeping {
		s.sweeping = true
		s.wg.Add(1) // a handshake goroutine holds the count above zero: Close may be waiting
		go s.sweep()
	}
	return true
}

// restart starts sock's timeout again (Qt restarts it after the first
// byte), unless it expired already.
func (s *Server) restart(sock *Socket, timeout time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.inflight[sock]; ok && !c.expired {
		c.deadline = time.Now().Add(timeout)
		s.inflight[sock] = c
	}
}

// untrack removes sock. If the sweeper expired it while its handshake was
// completing anyway, the connection's deadline is cleared again: the
// application gets a socket without a deadline it did not set.
func (s *Server) untrack(sock *Socket) {
	s.mu.Lock()
	c, ok := s.inflight[sock]
	delete(s.inflight, sock)
	s.mu.Unlock()
	if ok && c.expired {
		_ = c.conn.SetDeadline(time.Time{})
		sock.mu.Lock()
		readDL := sock.readDL // one a handler set during the handshake stays
		sock.mu.Unlock()
		if !readDL.IsZero() {
			_ = c.conn.SetReadDeadline(readDL)
		}
	}
}

// sweep expires overdue connections while any is in flight.
func (s *Server) sweep() {
	defer s.wg.Done()
	s.mu.Lock()
	period := sweepPeriod(s.handshakeTimeout)
	s.mu.Unlock()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		var now time.Time
		select {
		case <-s.closed:
			s.mu.Lock()
			s.sweeping = false
			s.mu.Unlock()
			return
		case now = <-tick.C:
		}
		s.mu.Lock()
		if len(s.inflight) == 0 {
			s.sweeping = false
			s.mu.Unlock()
			return
		}
		var stubborn []net.Conn
		for sock, c := range s.inflight {
			if !c.expired && !now.Before(c.deadline) {
				// The blocked read or write ends with a timeout; a pause in
				// verification (no I/O under way) ends through the endpoint.
				if err := c.conn.SetDeadline(time.Unix(1, 0)); err != nil {
					stubborn = append(stubborn, c.conn) // a listener whose connections take no deadline
				}
				sock.ep.expire()
				c.expired = true
				s.inflight[sock] = c
			}
		}
		if p := sweepPeriod(s.handshakeTimeout); p != period {
			period = p
			tick.Reset(p)
		}
		s.mu.Unlock()
		for _, c := range stubborn {
			c.Close()
		}
	}
}
