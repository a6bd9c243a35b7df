package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/retry"
)

// Sink delivers batches of events. Send must be safe to retry: a batch
// that failed is sent again whole.
type Sink interface {
	Send(ctx context.Context, events []Event) error
	Close() error
}

// PermanentError marks a failure that retrying cannot fix (a 4xx answer,
// a malformed event); the batch goes to the dead letter at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Counters are one sink's delivery counters.
type Counters struct {
	Queued     int64 // events currently waiting in the queue
	Sent       int64 // events delivered
	Dropped    int64 // events dropped because the queue was full
	Errors     int64 // failed send attempts
	Retries    int64 // attempts after the first
	DeadLetter int64 // events written to the dead letter file
}

// Options tunes a Router.
type Options struct {
	Logger *slog.Logger
	// Sleep waits between attempts (tests may shorten it); default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

type worker struct {
	name                                       string
	sink                                       Sink
	q                                          chan Event
	batch                                      int
	attempts                                   int
	backoff                                    time.Duration
	queued, sent, dropped, errs, retries, dead atomic.Int64
}

// Router matches events against routes and delivers them to sinks.
type Router struct {
	routes  []Route
	workers map[string]*worker
	order   []string
	dl      *DeadLetter
	log     *slog.Logger
	sleep   func(ctx context.Context, d time.Duration) error
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  atomic.Bool
	mu      sync.RWMutex
}

// New builds the sinks of cfg and starts a Router delivering to them.
func New(cfg *Config, opt Options) (*Router, error) {
	sinks := make(map[string]Sink, len(cfg.Sinks))
	for i := range cfg.Sinks {
		s, err := Build(&cfg.Sinks[i])
		if err != nil {
			for _, o := range sinks {
				_ = o.Close()
			}
			return nil, fmt.Errorf("sink %q: %w", cfg.Sinks[i].Name, err)
		}
		sinks[cfg.Sinks[i].Name] = s
	}
	return NewWithSinks(cfg, sinks, opt)
}

// NewWithSinks starts a Router over already built sinks (keyed by the
// names cfg's sinks and routes use).
func NewWithSinks(cfg *Config, sinks map[string]Sink, opt Options) (*Router, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Router{routes: cfg.Routes, workers: map[string]*worker{}, log: opt.Logger, sleep: opt.Sleep}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.sleep == nil {
		r.sleep = retry.Sleep
	}
	if cfg.DeadLetter.Path != "" {
		dl, err := OpenDeadLetter(cfg.DeadLetter.Path, cfg.DeadLetter.MaxBytes)
		if err != nil {
			return nil, err
		}
		r.dl = dl
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for i := range cfg.Sinks {
		sc := &cfg.Sinks[i]
		s, ok := sinks[sc.Name]
		if !ok {
			r.cancel()
			return nil, fmt.Errorf("sink %q: not built", sc.Name)
		}
		w := &worker{name: sc.Name, sink: s, q: make(chan Event, def(sc.Queue, 10000)),
			batch: def(sc.Batch, 100), attempts: def(sc.Attempts, 6), backoff: sc.Backoff}
		if w.backoff <= 0 {
			w.backoff = 500 * time.Millisecond
		}
		r.workers[sc.Name] = w
		r.order = append(r.order, sc.Name)
		r.wg.Add(1)
		go r.run(w)
	}
	return r, nil
}

func def(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Route queues e on every sink whose route matches (each sink at most
// once). It never blocks: a full queue drops the event and counts it.
// It returns the number of sinks the event was queued on.
func (r *Router) Route(e Event) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed.Load() {
		return 0
	}
	n := 0
	var seen [8]string
	used := seen[:0]
	for i := range r.routes {
		rt := &r.routes[i]
		if !rt.Match.Matches(&e) {
			continue
		}
	sinks:
		for _, name := range rt.Sinks {
			for _, u := range used {
				if u == name {
					continue sinks
				}
			}
			used = append(used, name)
			w := r.workers[name]
			select {
			case w.q <- e:
				w.queued.Add(1)
				n++
			default:
				w.dropped.Add(1)
			}
		}
	}
	return n
}

// Counters returns every sink's counters by name.
func (r *Router) Counters() map[string]Counters {
	out := make(map[string]Counters, len(r.workers))
	for name, w := range r.workers {
		out[name] = Counters{Queued: w.queued.Load(), Sent: w.sent.Load(), Dropped: w.dropped.Load(),
			Errors: w.errs.Load(), Retries: w.retries.Load(), DeadLetter: w.dead.Load()}
	}
	return out
}

// Close stops accepting events, delivers what is queued (until ctx ends:
// then the rest goes to the dead letter) and closes the sinks.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed.Swap(true) {
		r.mu.Unlock()
		return nil
	}
	for _, w := range r.workers {
		close(w.q)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		r.cancel()
		<-done
	}
	r.cancel()
	var errs []error
	for _, name := range r.order {
		if err := r.workers[name].sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sink %q: %w", name, err))
		}
	}
	if r.dl != nil {
		errs = append(errs, r.dl.Close())
	}
	return errors.Join(errs...)
}

func (r *Router) run(w *worker) {
	defer r.wg.Done()
	buf := make([]Event, 0, w.batch)
	for e := range w.q {
		buf = append(buf[:0], e)
	fill:
		for len(buf) < w.batch {
			select {
			case e2, ok := <-w.q:
				if !ok {
					break fill
				}
				buf = append(buf, e2)
			default:
				break fill
			}
		}
		w.queued.Add(-int64(len(buf)))
		r.deliver(w, buf)
	}
}

func (r *Router) deliver(w *worker, batch []Event) {
	b := retry.NewBackoff(w.backoff, 60*time.Second)
	var err error
	for attempt := 0; attempt < w.attempts; attempt++ {
		if attempt > 0 {
			w.retries.Add(1)
			if r.sleep(r.ctx, b.Next()) != nil {
				break
			}
		}
		ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
		err = w.sink.Send(ctx, batch)
		cancel()
		if err == nil {
			w.sent.Add(int64(len(batch)))
			return
		}
		w.errs.Add(1)
		r.log.Warn("sink delivery failed", "sink", w.name, "attempt", attempt+1, "events", len(batch), "err", err)
		var pe *PermanentError
		if errors.As(err, &pe) || r.ctx.Err() != nil {
			break
		}
	}
	w.dead.Add(int64(len(batch)))
	if r.dl != nil {
		if derr := r.dl.Write(w.name, err, batch); derr != nil {
			r.log.Error("dead letter write failed", "sink", w.name, "err", derr)
		}
	}
}
