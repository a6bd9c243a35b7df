//go:build !unix

package benchmark

import "io/fs"

// fileOwner is not available on this platform.
func fileOwner(fs.FileInfo) (uid, gid uint32, ok bool) { return 0, 0, false }

const (
	openNonblock  = 0
	openDirectory = 0
	openNofollow  = 0
)
