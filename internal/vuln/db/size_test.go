package db

import (
	"context"
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBucketSizes logs how the store's bytes split between buckets (run
// with -v; informational, for tuning the layout).
func TestBucketSizes(t *testing.T) {
	if os.Getenv("WARD_DB_SIZES") == "" {
		t.Skip("set WARD_DB_SIZES=1 to measure bucket sizes")
	}
	osvDir := sharedOSV(t)
	dir := t.TempDir()
	if _, err := Import(context.Background(), dir, []string{osvDir}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_ = d.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAdv, bucketSum, bucketIdx, bucketSrc} {
			s := tx.Bucket(name).Stats()
			t.Logf("%s: keys %d, leaf pages %d (%d bytes in use of %d allocated), branch %d bytes",
				name, s.KeyN, s.LeafPageN, s.LeafInuse, s.LeafAlloc, s.BranchAlloc)
		}
		return nil
	})
}
