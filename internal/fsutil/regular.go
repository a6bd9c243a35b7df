// Package fsutil opens files of scanned trees safely: only regular files,
// so that a FIFO planted in a scanned tree cannot block open(2) and a
// device cannot be read forever.
package fsutil

import (
	"fmt"
	"io/fs"
	"os"
)

// NotRegularError says a path is a FIFO, a device, a socket or a directory.
type NotRegularError struct {
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("not a regular file (%s)", e.Mode.Type())
}

// OpenRegular opens a regular file (symlinks followed). It checks before
// opening, opens without blocking, and checks the opened file again, so a
// file swapped for a FIFO in between cannot block either. A non-regular
// file gives a *NotRegularError.
func OpenRegular(path string) (*os.File, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Mode: st.Mode()}
	}
	return checkOpened(os.OpenFile(path, os.O_RDONLY|openNonblock, 0))
}

// OpenRegularIn is OpenRegular for a name inside root.
func OpenRegularIn(root *os.Root, name string) (*os.File, error) {
	if st, err := root.Stat(name); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Mode: st.Mode()}
	}
	return checkOpened(root.OpenFile(name, os.O_RDONLY|openNonblock, 0))
}

func checkOpened(f *os.File, err error) (*os.File, error) {
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Mode: st.Mode()}
	}
	return f, nil
}
