// Package jobs runs the Ward server's scheduled jobs. Several servers may
// share one store: each run of a job is guarded by a lease in the store
// (store.TryLease), so only the lease holder runs it; the holder renews
// the lease at every tick and while a run lasts, and another server takes
// over when the holder stops renewing.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Job is a named periodic task.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Leaser grants named leases (store.Store.TryLease).
type Leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Scheduler runs jobs under leases.
type Scheduler struct {
	Leases Leaser
	// Holder identifies this server (host name and a random suffix).
	Holder string
	Logger *slog.Logger
	// OnRun, if set, is called after each run (tests, metrics).
	OnRun func(job string, err error)
}

// leaseTTL is how long a lease outlives its last renewal.
func leaseTTL(every time.Duration) time.Duration { return 2 * every }

// Run runs every job (the first attempt at once, then every Every) until
// ctx ends.
func (s *Scheduler) Run(ctx context.Context, jobs []Job) error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	for _, j := range jobs {
		if j.Every <= 0 || j.Run == nil || j.Name == "" {
			return fmt.Errorf("jobs: job %q: needs a name, an interval and a function", j.Name)
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func(j Job) {
			defer wg.Done()
			s.loop(ctx, j)
		}(j)
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, j Job) {
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		s.tick(ctx, j)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick runs j once if this server holds (or gets) its lease.
func (s *Scheduler) tick(ctx context.Context, j Job) {
	lease := "job:" + j.Name
	ttl := leaseTTL(j.Every)
	ok, err := s.Leases.TryLease(ctx, lease, s.Holder, ttl)
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.Error("job lease", "job", j.Name, "err", err)
		}
		return
	}
	if !ok {
		s.Logger.Debug("job runs on another server", "job", j.Name)
		return
	}
	// Renew while the run lasts so that a long run keeps its lease.
	runCtx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		rt := time.NewTicker(ttl / 3)
		defer rt.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-rt.C:
				if ok, err := s.Leases.TryLease(runCtx, lease, s.Holder, ttl); err != nil || !ok {
					if runCtx.Err() == nil {
						s.Logger.Warn("job lease lost during the run", "job", j.Name, "err", err)
					}
				}
			}
		}
	}()
	start := time.Now()
	err = j.Run(runCtx)
	cancel()
	<-renewed
	if err != nil && ctx.Err() == nil {
		s.Logger.Error("job failed", "job", j.Name, "took", time.Since(start).String(), "err", err)
	} else if err == nil {
		s.Logger.Info("job done", "job", j.Name, "took", time.Since(start).String())
	}
	if s.OnRun != nil {
		s.OnRun(j.Name, err)
	}
}
