//go:build !unix

package k8s

import "time"

func cpuTime() time.Duration { return 0 }
