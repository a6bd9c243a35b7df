package uplink

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenSpool: whatever a segment file holds (torn, corrupt), opening
// the spool and reading it never panics, and what it yields is in order.
func FuzzOpenSpool(f *testing.F) {
	f.Add([]byte("{\"seq\":0,\"alert\":1}\n{\"seq\":1,\"alert\":2}\n"), []byte("1\n"))
	f.Add([]byte("{\"seq\":0,\"alert\":1}\n{\"seq\":5"), []byte(""))
	f.Fuzz(func(t *testing.T, seg, acked []byte) {
		dir := t.TempDir()
		_ = os.WriteFile(filepath.Join(dir, "00000000000000000000.seg"), seg, 0o600)
		if len(acked) > 0 {
			_ = os.WriteFile(filepath.Join(dir, "acked"), acked, 0o600)
		}
		sp, err := OpenSpool(dir, 0)
		if err != nil {
			return
		}
		defer sp.Close()
		first, as, err := sp.Peek(1000)
		if err != nil {
			return
		}
		if uint64(len(as)) > sp.Pending() || first+uint64(len(as)) > sp.next {
			t.Fatalf("peek %d from %d beyond next %d", len(as), first, sp.next)
		}
	})
}
