//go:build !unix

package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockDir takes the directory's writer lock with an exclusive-create lock
// file (no flock here). A lock file older than an hour is considered stale.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".lock")
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another update of %s: %w", dir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
