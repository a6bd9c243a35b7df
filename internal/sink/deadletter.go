package sink

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// DeadLetter is an append-only JSON-lines file of events whose delivery
// failed for good. Each write is fsynced. When the file would exceed
// MaxBytes it is rotated to PATH.1 (replacing the previous one), so at
// most 2×MaxBytes are kept.
type DeadLetter struct {
	path string
	max  int64
	mu   sync.Mutex
	f    *os.File
	size int64
}

// DeadRecord is one line of the dead-letter file.
type DeadRecord struct {
	Time  time.Time       `json:"time"`
	Sink  string          `json:"sink"`
	Error string          `json:"error"`
	Event json.RawMessage `json:"event"`
}

// OpenDeadLetter opens (creating) the file; maxBytes ≤ 0 means 64 MiB.
func OpenDeadLetter(path string, maxBytes int64) (*DeadLetter, error) {
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	return &DeadLetter{path: path, max: maxBytes, f: f, size: st.Size()}, nil
}

// Write appends the events of a failed batch and fsyncs.
func (d *DeadLetter) Write(sinkName string, cause error, events []Event) error {
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	var buf []byte
	for i := range events {
		ej, err := events[i].JSON()
		if err != nil {
			return fmt.Errorf("dead letter: %w", err)
		}
		line, err := json.Marshal(DeadRecord{Time: time.Now().UTC(), Sink: sinkName, Error: msg, Event: ej})
		if err != nil {
			return fmt.Errorf("dead letter: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.size > 0 && d.size+int64(len(buf)) > d.max {
		if err := d.f.Close(); err != nil {
			return fmt.Errorf("dead letter %s: %w", d.path, err)
		}
		if err := os.Rename(d.path, d.path+".1"); err != nil {
			return fmt.Errorf("dead letter rotate %s: %w", d.path, err)
		}
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("dead letter: %w", err)
		}
		d.f, d.size = f, 0
	}
	if _, err := d.f.Write(buf); err != nil {
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	d.size += int64(len(buf))
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dead letter %s: %w", d.path, err)
	}
	return nil
}

// Close closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}
