//go:build unix

package fsutil

import "syscall"

// openNonblock keeps open(2) of a FIFO from waiting for a writer. Reads of
// regular files ignore it.
const openNonblock = syscall.O_NONBLOCK
