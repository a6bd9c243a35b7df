package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// WebhookOptions configures a webhook sink.
type WebhookOptions struct {
	// QueueSize bounds alerts waiting to be posted (default 1024); when
	// full, new alerts are dropped and counted.
	QueueSize int
	// Retries after the first attempt (default 3).
	Retries int
	// Backoff is the first retry delay, doubled each time (default 200ms),
	// capped at MaxBackoff (default 10s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Timeout per request (default 5s).
	Timeout time.Duration
	Client  *http.Client
	Header  http.Header
	Logger  *slog.Logger
}

// WebhookStats counts webhook deliveries.
type WebhookStats struct {
	Sent    uint64
	Failed  uint64 // gave up after retries
	Dropped uint64 // queue full
	Retries uint64
}

// Webhook posts each alert as JSON to a URL from a background goroutine.
type Webhook struct {
	url   string
	opts  WebhookOptions
	queue chan []byte
	done  chan struct{}
	ctx   context.Context
	stop  context.CancelFunc

	mu     sync.Mutex
	stats  WebhookStats
	closed bool
}

// NewWebhook starts a webhook sink.
func NewWebhook(url string, opts WebhookOptions) *Webhook {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Webhook{url: url, opts: opts, queue: make(chan []byte, opts.QueueSize), done: make(chan struct{}), ctx: ctx, stop: cancel}
	go w.loop()
	return w
}

// Send queues an alert; it never blocks. A full queue drops the alert.
func (w *Webhook) Send(_ context.Context, a *Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.stats.Dropped++
		return errors.New("webhook closed: alert dropped")
	}
	select {
	case w.queue <- b:
		return nil
	default:
		w.stats.Dropped++
		return errors.New("webhook queue full: alert dropped")
	}
}

func (w *Webhook) loop() {
	defer close(w.done)
	for b := range w.queue {
		w.deliver(b)
	}
}

func (w *Webhook) deliver(b []byte) {
	delay := w.opts.Backoff
	for attempt := 0; ; attempt++ {
		err := w.post(b)
		if err == nil {
			w.mu.Lock()
			w.stats.Sent++
			w.mu.Unlock()
			return
		}
		if attempt >= w.opts.Retries || w.ctx.Err() != nil {
			w.mu.Lock()
			w.stats.Failed++
			w.mu.Unlock()
			if w.opts.Logger != nil {
				w.opts.Logger.Warn("webhook delivery failed", "url", w.url, "err", err)
			}
			return
		}
		w.mu.Lock()
		w.stats.Retries++
		w.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
		}
		delay = min(delay*2, w.opts.MaxBackoff)
	}
}

type statusError int

func (e statusError) Error() string { return fmt.Sprintf("webhook answered HTTP %d", int(e)) }

func (w *Webhook) post(b []byte) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ward-runtime")
	for k, vs := range w.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return statusError(resp.StatusCode)
	}
	return nil
}

// Close stops accepting alerts, delivers what is queued (waiting at most
// the context's deadline via CloseContext) and stops.
func (w *Webhook) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return w.CloseContext(ctx)
}

// CloseContext is Close with a deadline; past it, pending retries stop.
func (w *Webhook) CloseContext(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
	case <-ctx.Done():
		w.stop()
		<-w.done
	}
	w.stop()
	s := w.Stats()
	if s.Failed > 0 || s.Dropped > 0 {
		return fmt.Errorf("webhook %s: %d alerts failed, %d dropped", w.url, s.Failed, s.Dropped)
	}
	return nil
}

// Stats returns delivery counters.
func (w *Webhook) Stats() WebhookStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
