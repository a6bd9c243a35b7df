//go:build unix

package benchmark

import "syscall"

func syscallMkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }
