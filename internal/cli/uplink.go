package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/uplink"
	"github.com/wardsec/ward/pkg/report"
)

// reportUploader uploads an emitted report (Globals.upload).
type reportUploader func(*report.Report) error

// serverFlags are the client flags that connect a command to a Ward
// server (--server, --token, --token-file, --server-ca, and --node for
// sensors), with the environment defaults WARD_SERVER, WARD_TOKEN and
// WARD_NODE.
type serverFlags struct {
	url, token, tokenFile, ca, node string
	events, drops                   atomic.Uint64
}

func (s *serverFlags) register(f *pflag.FlagSet, sensor bool) {
	what := "upload the JSON report to this Ward server (POST /api/v1/scans) after printing it (env WARD_SERVER)"
	if sensor {
		what = "stream alerts to this Ward server (POST /api/v1/alerts, spooled on disk while it is unreachable) (env WARD_SERVER)"
	}
	f.StringVar(&s.url, "server", "", what)
	f.StringVar(&s.token, "token", "", "bearer token for --server (env WARD_TOKEN)")
	f.StringVar(&s.tokenFile, "token-file", "", "read the token for --server from this file")
	f.StringVar(&s.ca, "server-ca", "", "PEM file of the CA that signed the server's certificate")
	if sensor {
		f.StringVar(&s.node, "node", "", "node name this sensor reports as (env WARD_NODE; default: the hostname)")
	}
}

// addServerFlags registers the client flags on cmd and makes its RunE
// upload the report the command emits.
func addServerFlags(g *Globals, cmd *cobra.Command) {
	s := &serverFlags{}
	s.register(cmd.Flags(), false)
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		cl, err := s.client(g)
		if err != nil {
			return err
		}
		if cl != nil {
			g.upload = func(r *report.Report) error { return g.uploadReport(c.Context(), cl, s.url, r) }
			defer func() { g.upload = nil }()
		}
		return run(c, args)
	}
}

// client resolves flags and environment; nil when no server is set.
func (s *serverFlags) client(g *Globals) (*uplink.Client, error) {
	if s.url == "" {
		s.url = g.Getenv("WARD_SERVER")
	}
	if s.url == "" {
		if s.token != "" || s.tokenFile != "" {
			return nil, usagef("--token and --token-file need --server (or WARD_SERVER)")
		}
		return nil, nil
	}
	if s.token != "" && s.tokenFile != "" {
		return nil, usagef("--token and --token-file are mutually exclusive")
	}
	if s.tokenFile != "" {
		b, err := os.ReadFile(s.tokenFile)
		if err != nil {
			return nil, usagef("--token-file: %v", err)
		}
		s.token = strings.TrimSpace(string(b))
		if s.token == "" {
			return nil, usagef("--token-file %s: empty", s.tokenFile)
		}
	}
	if s.token == "" {
		s.token = g.Getenv("WARD_TOKEN")
	}
	if s.node == "" {
		s.node = g.Getenv("WARD_NODE")
	}
	if s.node == "" {
		s.node, _ = os.Hostname()
	}
	cl, err := uplink.New(uplink.Config{URL: s.url, Token: s.token, CAFile: s.ca, Logger: g.Logger})
	if err != nil {
		return nil, usagef("--server: %v", err)
	}
	return cl, nil
}

// uploadReport writes r as JSON to a temporary file (findings stream from
// the spool) and uploads it.
func (g *Globals) uploadReport(ctx context.Context, cl *uplink.Client, url string, r *report.Report) error {
	dir := g.CacheDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		dir = ""
	}
	f, err := os.CreateTemp(dir, "upload-*.json")
	if err != nil {
		return fmt.Errorf("upload to %s: %w", url, err)
	}
	defer os.Remove(f.Name())
	if r.Packages == nil && len(g.uploadPackages) > 0 {
		// The server gets the inventory for re-matching even when the
		// printed report leaves it out.
		r.Packages = g.uploadPackages
		defer func() { r.Packages = nil }()
	}
	w, _ := report.New("json", report.Options{})
	err = w.Write(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upload to %s: writing the report: %w", url, err)
	}
	res, err := cl.UploadReportFile(ctx, f.Name(), "")
	if err != nil {
		return fmt.Errorf("upload to %s failed: %w", url, err)
	}
	if !g.Quiet {
		dup := ""
		if res.Duplicate {
			dup = " (already uploaded)"
		}
		fmt.Fprintf(g.Stderr, "uploaded to %s: scan %s, %d findings (%d new, %d fixed)%s\n",
			termSafe(url, false), termSafe(res.ScanID, false), res.Findings, res.New, res.Fixed, dup)
	}
	return nil
}

// streamer builds the alert sink of `runtime watch --server`; nil
// without a server.
func (s *serverFlags) streamer(g *Globals) (*closingStreamer, error) {
	cl, err := s.client(g)
	if err != nil || cl == nil {
		return nil, err
	}
	st, err := uplink.NewStreamer(cl, uplink.StreamOptions{
		Node: s.node, Version: g.Info.Version, Dir: filepath.Join(g.CacheDir, "uplink"),
		Stats: func() (uint64, uint64) { return s.events.Load(), s.drops.Load() }, Logger: g.Logger,
	})
	if err != nil {
		return nil, &ExitError{Code: ExitScanError, Err: fmt.Errorf("--server: %w", err)}
	}
	return &closingStreamer{Streamer: st, g: g, url: s.url}, nil
}

// setSensorStats records the sensor's final counters for the last heartbeat.
func (s *serverFlags) setSensorStats(events, drops uint64) {
	s.events.Store(events)
	s.drops.Store(drops)
}

// closingStreamer bounds the final delivery when the watch stops and
// says what stayed spooled.
type closingStreamer struct {
	*uplink.Streamer
	g   *Globals
	url string
}

func (c *closingStreamer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := c.CloseContext(ctx)
	st := c.Stats()
	if !c.g.Quiet {
		fmt.Fprintf(c.g.Stderr, "runtime watch: %d alerts sent to %s, %d still spooled, %d dropped\n",
			st.Sent, termSafe(c.url, false), st.Spooled, st.Dropped)
	}
	if st.Spooled > 0 {
		return errors.Join(err, fmt.Errorf("--server %s: %d alerts not delivered (kept in the spool for the next run)", c.url, st.Spooled))
	}
	return err
}
