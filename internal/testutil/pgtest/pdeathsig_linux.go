package pgtest

import "syscall"

// pdeathsig kills the server if the test binary dies: no cluster outlives
// its tests.
func pdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
