package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// relayer copies standard input to the socket and the socket to standard
// output. Once standard input has ended, the session ends when the server
// has sent nothing for --eof-idle (the read deadline moves on with every
// chunk the server sends), or with --wait-close when the server closes.
//
// Standard input is copied from the moment the handshake completes (see
// confirm.go); the server's data is copied to standard output by run,
// after the report.
type relayer struct {
	a    *app
	o    *connectOpts
	sock *ssl.Socket

	mu       sync.Mutex // guards inputEnd and reading
	inputEnd bool       // standard input ended (EOF or a failed write); set by the input goroutine
	reading  bool       // run has started reading: from then on the idle clock runs
}

// startRelay starts copying standard input to sock.
func (a *app) startRelay(o *connectOpts, sock *ssl.Socket) *relayer {
	r := &relayer{a: a, o: o, sock: sock}
	go func() {
		src := a.stdin
		if o.crlf {
			src = &crlfReader{r: bufio.NewReader(a.stdin)}
		}
		_, _ = io.Copy(sock, src)
		r.inputEnded()
	}()
	return r
}

// inputEnded notes the end of standard input and starts the idle clock.
func (r *relayer) inputEnded() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputEnd = true
	if r.reading {
		r.armLocked()
	}
}

// armLocked sets the read deadline --eof-idle from now, once standard input
// has ended (without --wait-close). r.mu is held.
func (r *relayer) armLocked() {
	if r.inputEnd && !r.o.waitClose {
		_ = r.sock.SetReadDeadline(time.Now().Add(r.o.eofIdle))
	}
}

// run copies the server's data to standard output until the server closes,
// fails, or stays quiet for --eof-idle after standard input has ended; then
// it closes the session (close_notify unless a fatal alert ended it) and
// returns the exit status the session deserves.
func (r *relayer) run(ss *session) (int, error) {
	r.mu.Lock()
	r.reading = true
	r.armLocked()
	r.mu.Unlock()
	buf := make([]byte, 32<<10)
	var err error
	for {
		var n int
		n, err = r.sock.Read(buf)
		if n > 0 {
			if _, werr := r.a.stdout.Write(buf[:n]); werr != nil {
				return 1, fmt.Errorf("writing the server's data: %w", werr)
			}
			r.mu.Lock()
			r.armLocked()
			r.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	ss.mu.Lock()
	fatal := ss.fatalIn
	ss.mu.Unlock()
	switch {
	case fatal != nil:
		fmt.Fprintf(r.a.stderr, "sslsock: the server ended the connection with a fatal alert: %s\n", fatal.words())
		return 1, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Quiet since standard input ended: our turn to close.
		if !r.o.quiet && !r.o.brief {
			fmt.Fprintf(r.a.stderr, "sslsock: standard input ended and the server sent nothing for %s: closing (--wait-close waits for the server to close)\n", r.o.eofIdle)
		}
		if cerr := r.sock.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			return 1, fmt.Errorf("closing the connection: %w", cerr)
		}
	case errors.Is(err, ssl.ErrUncleanShutdown):
		if !r.o.quiet {
			fmt.Fprintln(r.a.stderr, "sslsock: the server closed the connection without close_notify (the data may be truncated)")
		}
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		return 1, fmt.Errorf("reading from the server: %w", err)
	}
	return 0, nil
}
