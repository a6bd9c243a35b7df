//go:build !unix

package response

import (
	"errors"
	"fmt"
)

// killProcess is not available: response actions run on Linux.
func killProcess(pid int) error {
	return fmt.Errorf("killing process %d: %w", pid, errors.ErrUnsupported)
}
