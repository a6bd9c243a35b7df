//go:build unix

package response

import (
	"errors"
	"fmt"
	"syscall"
)

// killProcess sends SIGKILL; a process that already exited is reported as
// such, not as a raw errno.
func killProcess(pid int) error {
	err := syscall.Kill(pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("process %d already exited", pid)
	}
	return err
}
