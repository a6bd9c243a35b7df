// Package server runs `ward server`: it opens the store, builds the alert
// router from the configuration file, serves the API (internal/server/api)
// and the dashboard over HTTP or HTTPS, runs scheduled jobs and shuts down
// gracefully, draining in-flight requests and queued alerts.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/jobs"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/sink"
)

// Options configures Run.
type Options struct {
	// Listen is the address (default 127.0.0.1:8080).
	Listen string
	// DSN names the store (see store.OpenDSN); DataDir holds the default
	// SQLite database and upload spool.
	DSN, DataDir string
	// TLSCert and TLSKey, when both set, serve HTTPS (reloaded on change).
	TLSCert, TLSKey string
	// Config is the parsed configuration file (nil: none).
	Config *FileConfig
	// ReadyFile, when set, receives the base URL once the server listens.
	ReadyFile string
	Version   string
	Logger    *slog.Logger
	// Web builds the dashboard handler served at "/" (nil: none); tls
	// says whether the server serves HTTPS (secure cookies).
	Web func(st *store.Store, tls bool) (http.Handler, error)
	// ShutdownTimeout bounds draining requests and sinks (default 30s).
	ShutdownTimeout time.Duration
	// CacheDir is Ward's cache directory: the vulnerability database of
	// the vulndb job lives in <CacheDir>/vulndb unless the job names one.
	CacheDir string
	// JobHolder names this server in job leases (default: host name and
	// a random suffix).
	JobHolder string
	// OnJob, if set, is called after each scheduled job run (tests).
	OnJob func(job string, err error)
}

// Run serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("server: --tls-cert and --tls-key go together")
	}
	var certs *certReloader
	if o.TLSCert != "" {
		var err error
		if certs, err = newCertReloader(o.TLSCert, o.TLSKey); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	if o.DataDir == "" {
		return errors.New("server: no data directory")
	}
	spool := filepath.Join(o.DataDir, "uploads")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("server: upload spool: %w", err)
	}
	cleanSpool(spool, log)

	st, err := store.OpenDSN(ctx, o.DSN, o.DataDir)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer st.Close()

	var router *sink.Router
	if o.Config != nil && len(o.Config.Sinks) > 0 {
		if router, err = sink.New(&o.Config.Config, sink.Options{Logger: log.With("component", "sink")}); err != nil {
			return fmt.Errorf("server: alert routing: %w", err)
		}
	}
	closeRouter := func() {
		if router == nil {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
		defer cancel()
		if err := router.Close(cctx); err != nil {
			log.Error("closing sinks", "err", err)
		}
		router = nil
	}
	defer closeRouter()

	var web http.Handler
	if o.Web != nil {
		if web, err = o.Web(st, certs != nil); err != nil {
			return fmt.Errorf("server: dashboard: %w", err)
		}
	}
	h, err := api.New(api.Options{Store: st, Router: router, Logger: log, Version: o.Version, TempDir: spool, Web: web})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	js, err := scheduledJobs(o, st, h, log)
	if err != nil {
		return fmt.Errorf("server: jobs: %w", err)
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	scheme := "http"
	if certs != nil {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Report uploads of up to 256 MiB from slow links: generous read
		// and write deadlines, a short idle one.
		ReadTimeout:    15 * time.Minute,
		WriteTimeout:   15 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if certs != nil {
		srv.TLSConfig = certs.tlsConfig()
	}

	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan error, 1)
	if len(js) > 0 {
		holder := o.JobHolder
		if holder == "" {
			holder = holderID()
		}
		sched := &jobs.Scheduler{Leases: st, Holder: holder, Logger: log.With("component", "jobs"), OnRun: o.OnJob}
		go func() { jobsDone <- sched.Run(jobsCtx, js) }()
	} else {
		jobsDone <- nil
	}

	serveErr := make(chan error, 1)
	go func() {
		if certs != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	log.Info("ward server listening", "url", url, "store", st.Engine(), "data_dir", o.DataDir, "sinks", router != nil, "dashboard", web != nil)
	if o.ReadyFile != "" {
		if err := writeFileAtomic(o.ReadyFile, []byte(url+"\n")); err != nil {
			log.Error("ready file", "err", err)
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining requests", "timeout", o.ShutdownTimeout)
	case err := <-serveErr:
		runErr = fmt.Errorf("server: %w", err)
	}
	stopJobs()
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown: requests still running were cut", "err", err)
		srv.Close()
	}
	if err := <-jobsDone; err != nil && !errors.Is(err, context.Canceled) {
		log.Error("jobs", "err", err)
	}
	closeRouter()
	log.Info("ward server stopped")
	return runErr
}

// cleanSpool removes uploads left by a server that was killed.
func cleanSpool(dir string, log *slog.Logger) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "ward-upload-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				log.Warn("upload spool cleanup", "err", err)
			}
		}
	}
}

func writeFileAtomic(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
