//go:build unix

package secret

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// scanHandle is a file opened for scanning with raw system calls: small
// files (the common case) are read without an os.File (no finalizer, no
// poller, no second fstat); larger ones become an os.File for seeking.
type scanHandle struct{ fd int }

var errNotRegular = errors.New("not a regular file")

// openForScan opens a regular file without following a final symlink and
// returns its size from fstat.
func openForScan(path string) (*scanHandle, int64, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, 0, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// Replaced by a FIFO, device or directory since the walk: never read.
		syscall.Close(fd)
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return &scanHandle{fd: fd}, st.Size, nil
}

func (h *scanHandle) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(h.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (h *scanHandle) Close() error {
	if h.fd < 0 {
		return nil
	}
	err := syscall.Close(h.fd)
	h.fd = -1
	return err
}

// osFile hands the descriptor over to an os.File (for Seek and ReadAt).
func (h *scanHandle) osFile(name string) *os.File {
	f := os.NewFile(uintptr(h.fd), name)
	h.fd = -1
	return f
}
