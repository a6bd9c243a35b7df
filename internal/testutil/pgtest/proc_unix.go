//go:build unix

package pgtest

import (
	"os"
	"syscall"
)

// runCred is the user the cluster's processes run as.
type runCred struct{ uid, gid uint32 }

// procAttr runs a cluster process as cred (nil: this user); the server
// (server true) gets its own process group, and on Linux dies with the
// test binary (see pdeathsig).
func procAttr(cred *runCred, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if cred != nil {
		a.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid}
	}
	if server {
		a.Setpgid = true
		pdeathsig(a)
	}
	return a
}

// killGroup kills the server's process group (postmaster and backends).
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
