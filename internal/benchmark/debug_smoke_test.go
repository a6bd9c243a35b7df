package benchmark

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestDebugRun(t *testing.T) {
	root := os.Getenv("WARD_DEBUG_ROOT")
	if root == "" {
		t.Skip()
	}
	cs, _ := Load()
	opts := Options{Rootfs: root, WalkSkip: []string{"/mnt/sandboxing"}}
	if root == "/" {
		opts.Live = true
	}
	rep, err := Run(context.Background(), cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		fmt.Printf("%-40s %-14s exp=%q act=%q at %s:%d\n", r.Control.ID, r.Status, r.Expected, r.Actual, r.Path, r.Line)
	}
	fmt.Printf("%+v %v walk=%+v\n", rep.Counts(), rep.Duration, rep.Walk)
}
