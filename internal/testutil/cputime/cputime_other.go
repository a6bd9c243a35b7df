//go:build !unix

// Package cputime reports the process's CPU time, so benchmarks can give
// throughput per CPU-second, which a busy shared machine does not distort.
package cputime

import "time"

// Process returns 0: CPU time is not measured on this platform.
func Process() time.Duration { return 0 }
