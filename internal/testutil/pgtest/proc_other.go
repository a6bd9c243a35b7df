//go:build !unix

package pgtest

import (
	"os"
	"syscall"
)

// runCred is the user the cluster's processes run as (unused here: the
// cluster runs as this user).
type runCred struct{ uid, gid uint32 }

func procAttr(*runCred, bool) *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { _ = p.Kill() }
