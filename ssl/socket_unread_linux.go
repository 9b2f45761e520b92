package ssl

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelUnread returns how many received bytes wait unread on a socket
// (SIOCINQ), without reading and without contending with a read in flight.
func kernelUnread(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	n, ierr := 0, error(nil)
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}
