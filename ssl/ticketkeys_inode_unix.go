//go:build unix

package ssl

import (
	"os"
	"syscall"
)

// inodeOf is the file's inode: a key file renamed over the old one is a
// change even with the same size and modification time.
func inodeOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
