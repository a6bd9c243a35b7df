// Command ward is Ward's single binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/wardsec/ward/internal/cli"
)

// Stamped with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &cli.Globals{
		Info:      cli.BuildInfo{Version: version, Commit: commit},
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Getenv:    os.Getenv,
		Now:       time.Now,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	return runInterruptible(ctx, shutdownGrace, os.Stderr, func() int { return cli.Run(ctx, g, os.Args[1:]) })
}

// shutdownGrace is how long a cancelled run may take to wind down before
// Ward gives up on it.
const shutdownGrace = 3 * time.Second

// runInterruptible runs f and returns its exit code. Once ctx is cancelled
// (SIGINT or SIGTERM) f gets grace to return; a run still blocked after that
// (an open(2) of a FIFO nobody writes to, a read from a stalled device)
// cannot observe the context, so Ward reports it and exits with 130 instead
// of ignoring the signal forever.
func runInterruptible(ctx context.Context, grace time.Duration, stderr io.Writer, f func() int) int {
	done := make(chan int, 1)
	go func() { done <- f() }()
	select {
	case code := <-done:
		return code
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case code := <-done:
		return code
	case <-t.C:
		fmt.Fprintf(stderr, "ward: interrupted; the run did not stop within %s, exiting\n", grace)
		return 130
	}
}
