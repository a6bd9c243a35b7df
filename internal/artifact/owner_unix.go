//go:build unix

package artifact

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the owner of a file on the host.
func fileOwner(info fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
