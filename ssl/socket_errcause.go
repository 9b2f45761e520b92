package ssl

// setCause records the Go error behind the error about to be reported, so
// that the *SocketErr a wait or Dial returns unwraps to it:
// errors.Is(err, syscall.ECONNREFUSED) holds for a refused connection.
func (s *Socket) setCause(err error) {
	s.mu.Lock()
	s.errCause = err
	s.mu.Unlock()
}
