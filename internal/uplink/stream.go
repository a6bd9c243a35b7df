package uplink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
)

// StreamOptions configures a Streamer.
type StreamOptions struct {
	Node    string
	Version string
	// Dir holds the spool and the sensor ID (e.g. CACHE/uplink).
	Dir string
	// MaxSpoolBytes bounds the spool (default 256 MiB).
	MaxSpoolBytes int64
	// Batch is the most alerts per POST (default 500).
	Batch int
	// Heartbeat is the heartbeat interval (default 30s; <0 disables).
	Heartbeat time.Duration
	// Stats returns the sensor's event and drop counters for heartbeats.
	Stats  func() (events, drops uint64)
	Logger *slog.Logger
}

// Streamer is an alert.Sink that spools alerts on disk and sends them to
// the server in order. Send never waits for the network.
type Streamer struct {
	c        *Client
	spool    *Spool
	o        StreamOptions
	sensorID string
	started  time.Time
	in       chan json.RawMessage
	wake     chan struct{}
	alerts   atomic.Uint64
	lost     atomic.Uint64 // alerts refused because the in-memory queue was full
	sent     atomic.Uint64
	wg       sync.WaitGroup
	stop     context.CancelFunc
	ctx      context.Context
	errMu    sync.Mutex
	lastErr  error
	closed   atomic.Bool
	closeMu  sync.RWMutex
}

// SensorID reads (or creates) the persistent sensor ID in dir: a random
// 128-bit hex string, so that sequence numbers continue across restarts.
func SensorID(dir string) (string, error) {
	p := filepath.Join(dir, "sensor_id")
	if b, err := os.ReadFile(p); err == nil {
		id := strings.TrimSpace(string(b))
		if len(id) == 32 {
			return id, nil
		}
	}
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(r[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("sensor id: %w", err)
	}
	if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("sensor id: %w", err)
	}
	return id, nil
}

// NewStreamer opens the spool and starts the writer and sender.
func NewStreamer(c *Client, o StreamOptions) (*Streamer, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	id, err := SensorID(o.Dir)
	if err != nil {
		return nil, err
	}
	sp, err := OpenSpool(filepath.Join(o.Dir, "spool-"+id), o.MaxSpoolBytes)
	if err != nil {
		return nil, err
	}
	s := &Streamer{c: c, spool: sp, o: o, sensorID: id, started: time.Now().UTC(),
		in: make(chan json.RawMessage, 4096), wake: make(chan struct{}, 1)}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.writer()
	go s.sender()
	return s, nil
}

// ID is the sensor ID.
func (s *Streamer) ID() string { return s.sensorID }

// Send implements alert.Sink: the alert is queued for the spool.
func (s *Streamer) Send(_ context.Context, a *alert.Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return errors.New("uplink: streamer closed")
	}
	select {
	case s.in <- b:
		s.alerts.Add(1)
		return nil
	default:
		s.lost.Add(1)
		return errors.New("uplink: spool queue full, alert dropped")
	}
}

// writer appends queued alerts to the spool, one fsync per batch.
func (s *Streamer) writer() {
	defer s.wg.Done()
	batch := make([]json.RawMessage, 0, 256)
	for a := range s.in {
		batch = append(batch[:0], a)
	fill:
		for len(batch) < cap(batch) {
			select {
			case b, ok := <-s.in:
				if !ok {
					break fill
				}
				batch = append(batch, b)
			default:
				break fill
			}
		}
		if _, err := s.spool.Append(batch); err != nil {
			s.setErr(err)
			s.o.Logger.Error("spool append failed", "err", err, "alerts", len(batch))
			s.lost.Add(uint64(len(batch)))
			continue
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Streamer) setErr(err error) {
	s.errMu.Lock()
	s.lastErr = err
	s.errMu.Unlock()
}

// sender posts spooled alerts in order and heartbeats.
func (s *Streamer) sender() {
	defer s.wg.Done()
	var hb <-chan time.Time
	if s.o.Heartbeat > 0 {
		t := time.NewTicker(s.o.Heartbeat)
		defer t.Stop()
		hb = t.C
		s.heartbeat()
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		if s.flush(s.ctx) != nil && s.ctx.Err() != nil {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-poll.C:
		case <-hb:
			s.heartbeat()
		}
	}
}

// flush sends everything spooled; it stops at the first failure (the
// client already retried) and returns it.
func (s *Streamer) flush(ctx context.Context) error {
	for {
		first, alerts, err := s.spool.Peek(s.o.Batch)
		if err != nil {
			s.setErr(err)
			return err
		}
		if len(alerts) == 0 {
			return nil
		}
		res, err := s.c.PostAlerts(ctx, &AlertBatch{Node: s.o.Node, SensorID: s.sensorID, Seq: first, Alerts: alerts})
		if err != nil {
			s.setErr(err)
			s.o.Logger.Warn("alert upload failed; alerts stay spooled", "err", err, "spooled", s.spool.Pending())
			return err
		}
		s.sent.Add(uint64(res.Accepted + res.Duplicates))
		if err := s.spool.Ack(first + uint64(len(alerts))); err != nil {
			s.setErr(err)
			return err
		}
	}
}

func (s *Streamer) heartbeat() {
	var ev, dr uint64
	if s.o.Stats != nil {
		ev, dr = s.o.Stats()
	}
	hb := &Heartbeat{Node: s.o.Node, SensorID: s.sensorID, Version: s.o.Version, Started: s.started,
		Events: ev, Drops: dr + s.lost.Load() + s.spool.Dropped(), Alerts: s.alerts.Load(), Spooled: s.spool.Pending()}
	if err := s.c.PostHeartbeat(s.ctx, hb); err != nil {
		s.o.Logger.Debug("heartbeat failed", "err", err)
	}
}

// Stats are the streamer's counters.
type Stats struct {
	Alerts, Sent, Spooled, Dropped uint64
	LastError                      error
}

// Stats returns the counters.
func (s *Streamer) Stats() Stats {
	s.errMu.Lock()
	e := s.lastErr
	s.errMu.Unlock()
	return Stats{Alerts: s.alerts.Load(), Sent: s.sent.Load(), Spooled: s.spool.Pending(),
		Dropped: s.lost.Load() + s.spool.Dropped(), LastError: e}
}

// Close stops taking alerts, spools what is queued, tries to deliver the
// spool until ctx ends (what remains stays on disk for the next run) and
// sends a last heartbeat.
func (s *Streamer) Close() error { return s.CloseContext(context.Background()) }

// CloseContext is Close with a deadline for the final delivery.
func (s *Streamer) CloseContext(ctx context.Context) error {
	s.closeMu.Lock()
	if s.closed.Swap(true) {
		s.closeMu.Unlock()
		return nil
	}
	close(s.in)
	s.closeMu.Unlock()
	s.stop()
	s.wg.Wait()
	err := s.flush(ctx)
	s.ctx = ctx
	if s.o.Heartbeat > 0 {
		s.heartbeat()
	}
	return errors.Join(err, s.spool.Close())
}
