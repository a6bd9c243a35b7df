//go:build !unix

package secret

import "os"

// scanHandle wraps an os.File where raw system calls are not used.
type scanHandle struct{ *os.File }

func openForScan(path string) (*scanHandle, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return &scanHandle{f}, st.Size(), nil
}

func (h *scanHandle) osFile(string) *os.File { return h.File }
