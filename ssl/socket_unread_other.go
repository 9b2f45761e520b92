//go:build !linux

package ssl

import "net"

// kernelUnread is not available here: closeOrderly probes with a read.
func kernelUnread(net.Conn) (int, bool) { return 0, false }
