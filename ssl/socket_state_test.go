package ssl

import "testing"

// TestPhaseMachine: the edges of the lifecycle machine, Qt's state in
// each phase, and the refusals that keep a late step of an ended
// connection (a connect attempt aborted meanwhile) from reviving it.
func TestPhaseMachine(t *testing.T) {
	walk := func(steps ...phase) (*Socket, []SocketState) {
		s := NewSocket()
		var states []SocketState
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range steps {
			if moved, changed := s.setPhaseLocked(p); !moved {
				t.Fatalf("%v refused after %v", p, states)
			} else if changed {
				states = append(states, s.state)
			}
		}
		return s, states
	}
	// A client's whole life, graceful close: Qt's stateChanged sequence.
	_, got := walk(phaseLookup, phaseConnecting, phaseConnected, phaseClosing, phaseEnding, phaseClosed, phaseDone)
	want := []SocketState{HostLookupState, ConnectingState, ConnectedState, ClosingState, UnconnectedState}
	if len(got) != len(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("states %v, want %v", got, want)
		}
	}
	// Abort: Ending keeps Qt's state until Unconnected.
	s, _ := walk(phaseLookup, phaseConnecting, phaseConnected, phaseEnding)
	if s.State() != ConnectedState || !s.endedLocked() || !s.closingLocked() {
		t.Errorf("Ending after Connected: state %v, ended %v", s.State(), s.endedLocked())
	}
	// Late steps of an ended attempt are refused.
	s, _ = walk(phaseLookup, phaseEnding, phaseClosed, phaseDone)
	s.mu.Lock()
	for _, late := range []phase{phaseConnecting, phaseClosing, phaseEnding, phaseClosed} {
		if moved, _ := s.setPhaseLocked(late); moved {
			t.Errorf("Done accepted %v", late)
		}
	}
	s.mu.Unlock()
	// A new connection starts from Done (and from Closed: reconnecting
	// from a disconnected handler).
	for _, from := range [][]phase{{phaseLookup, phaseDone}, {phaseConnected, phaseEnding, phaseClosed}} {
		s, _ := walk(from...)
		s.mu.Lock()
		if moved, _ := s.setPhaseLocked(phaseLookup); !moved {
			t.Errorf("no new connection after %v", from)
		}
		s.mu.Unlock()
	}
	// encrypted is derived: handshaked while Connected or Closing.
	s, _ = walk(phaseConnected)
	s.mu.Lock()
	s.handshaked = true
	for _, c := range []struct {
		p    phase
		want bool
	}{{phaseConnected, true}, {phaseClosing, true}, {phaseEnding, false}, {phaseClosed, false}} {
		if c.p != phaseConnected {
			s.setPhaseLocked(c.p)
		}
		if got := s.encryptedLocked(); got != c.want {
			t.Errorf("encrypted in %v: %v", c.p, got)
		}
	}
	s.mu.Unlock()
	for p := phaseIdle; p <= phaseDone; p++ {
		if p.String() == "" {
			t.Errorf("phase %d has no name", p)
		}
	}
}
