package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/report"
)

// TestCrashMidIngest kills (SIGKILL) a child process while it ingests a
// large scan, on each engine, and checks that the previous state is intact
// and that the retried upload with the same key is applied exactly once.
func TestCrashMidIngest(t *testing.T) {
	if dsn := os.Getenv("WARD_STORE_CRASH_CHILD"); dsn != "" {
		s, err := OpenDSN(context.Background(), dsn, "")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ingesting")
		_, _ = s.IngestScan(context.Background(), "big", bigReport(), []byte("{}"))
		fmt.Println("done")
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("-short: the crash test ingests 200,000 findings")
	}
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			s, err := OpenDSN(ctx, dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.IngestScan(ctx, "first", rep("a", "b"), []byte("{}")); err != nil {
				t.Fatal(err)
			}
			s.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidIngest$")
			cmd.Env = append(os.Environ(), "WARD_STORE_CRASH_CHILD="+dsn)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			if line != "ingesting\n" {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("child said %q", line)
			}
			time.Sleep(300 * time.Millisecond)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()

			s, err = OpenDSN(ctx, dsn, "")
			if err != nil {
				t.Fatalf("reopen after kill: %v", err)
			}
			defer s.Close()
			got := statuses(t, s)
			if len(got) != 2 || got["a"] != "open" || got["b"] != "open" {
				t.Fatalf("after kill -9 mid-ingest: %d findings, want a,b open (child may have finished: raise the report size)", len(got))
			}
			res, err := s.IngestScan(ctx, "big", bigReport(), []byte("{}"))
			if err != nil || res.Duplicate || res.New != bigN || res.Fixed != 2 {
				t.Fatalf("retry: %+v, %v", res, err)
			}
			again, err := s.IngestScan(ctx, "big", bigReport(), []byte("{}"))
			if err != nil || !again.Duplicate || again.ScanID != res.ScanID {
				t.Fatalf("second retry: %+v, %v", again, err)
			}
			if n := len(statuses(t, s)); n != bigN+2 {
				t.Fatalf("%d findings stored, want %d", n, bigN+2)
			}
		})
	}
}

const bigN = 100000

func bigReport() *report.Report {
	fps := make([]string, bigN)
	for i := range fps {
		fps[i] = fmt.Sprintf("fp%07d", i)
	}
	return rep(fps...)
}
