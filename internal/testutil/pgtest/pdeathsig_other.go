//go:build unix && !linux

package pgtest

import "syscall"

// pdeathsig: only Linux can tie the server's life to the test binary's.
func pdeathsig(*syscall.SysProcAttr) {}
