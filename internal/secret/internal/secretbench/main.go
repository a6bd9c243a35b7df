// Command secretbench scans a directory (or a git repository's history)
// with all built-in rules and prints throughput and findings counts. It is
// the driver for the performance figures in docs/secrets.md:
//
//	go build -o /tmp/secretbench ./internal/secret/internal/secretbench
//	/usr/bin/time -v /tmp/secretbench -workers 1 $(go env GOROOT)/src
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/wardsec/ward/internal/secret"
)

func main() {
	workers := flag.Int("workers", 1, "parallel workers")
	git := flag.Bool("git", false, "scan the git history of the directory instead of its files")
	decode := flag.Int("decode", 0, "max decode depth (0 = default)")
	prof := flag.String("cpuprofile", "", "write a CPU profile")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: secretbench [-workers N] [-git] DIR")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*workers)
	s, err := secret.New(secret.Options{Workers: *workers, MaxDecodeDepth: *decode})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	ctx := context.Background()
	var n, errs int
	if *git {
		fs, es := s.ScanGit(ctx, "bench", flag.Arg(0), secret.GitOptions{All: true})
		n, errs = len(fs), len(es)
		for _, e := range es {
			fmt.Fprintln(os.Stderr, e.Error())
		}
	} else {
		fs, es := s.ScanDir(ctx, "bench", flag.Arg(0))
		n, errs = len(fs), len(es)
	}
	el := time.Since(start)
	st := s.Stats()
	mb := float64(st.BytesScanned) / 1e6
	fmt.Printf("rules=%d workers=%d files=%d bytes=%.1fMB commits=%d skipped_binary=%d skipped_large=%d findings=%d errors=%d time=%s throughput=%.1fMB/s per_core=%.1fMB/s\n",
		s.RuleCount(), *workers, st.FilesScanned, mb, st.Commits, st.SkippedBinary, st.SkippedLarge, n, errs, el.Round(time.Millisecond), mb/el.Seconds(), mb/el.Seconds()/float64(*workers))
}
