//go:build unix

package benchmark

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the numeric owner and group of a file.
func fileOwner(st fs.FileInfo) (uid, gid uint32, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return s.Uid, s.Gid, true
}

// Open flags: never block on a FIFO, never follow a final symlink when a
// directory is expected.
const (
	openNonblock  = syscall.O_NONBLOCK
	openDirectory = syscall.O_DIRECTORY
	openNofollow  = syscall.O_NOFOLLOW
)
