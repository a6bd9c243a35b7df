//go:build unix

// Package cputime reports the process's CPU time, so benchmarks can give
// throughput per CPU-second, which a busy shared machine does not distort.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the process's user+system CPU time (0 if unknown).
func Process() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
