// Package alert turns rule matches into Ward findings (kind runtime) and
// Falco-shaped JSON alerts, and delivers them to sinks: text, JSON lines,
// files, and HTTP webhooks (bounded queue, retries with exponential
// backoff, counted drops), with per-rule rate limiting.
package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// Alert is Falco's JSON alert shape.
type Alert struct {
	Time         string         `json:"time"`
	Rule         string         `json:"rule"`
	Priority     string         `json:"priority"`
	Output       string         `json:"output"`
	OutputFields map[string]any `json:"output_fields"`
	Tags         []string       `json:"tags"`
	Source       string         `json:"source"`
	Hostname     string         `json:"hostname"`

	// Ward's forensic context (not in Falco's shape; consumers of Falco
	// alerts ignore unknown keys): the process ancestry from the sensor's
	// process table, the container and pod, and the capture file of the
	// events around the alert (ward runtime watch --capture).
	Ancestry  []Ancestor     `json:"ancestry,omitempty"`
	Container *ContainerInfo `json:"container,omitempty"`
	Capture   string         `json:"capture,omitempty"`
}

// FromMatch builds the Falco alert of a match. Output carries Falco's
// "time: Priority" prefix.
func FromMatch(m *rules.Match) Alert {
	fields := make(map[string]any, len(m.Fields))
	for _, f := range m.Fields {
		fields[f.Name] = f.Value
	}
	tags := m.Rule.Tags
	if tags == nil {
		tags = []string{}
	}
	return Alert{
		Time:         time.Unix(0, m.Time).UTC().Format(time.RFC3339Nano),
		Rule:         m.Rule.Name,
		Priority:     m.Rule.Priority.String(),
		Output:       rules.FormatTime(m.Time) + ": " + m.Rule.Priority.String() + " " + m.Output,
		OutputFields: fields,
		Tags:         append([]string(nil), tags...),
		Source:       m.Rule.Source,
		Hostname:     m.Hostname,
	}
}

// Finding builds the Ward finding of a match: kind runtime, severity from
// the priority, the process and container as location, and a fingerprint
// over rule, host, container, executable and command line.
func Finding(m *rules.Match) finding.Finding {
	a := FromMatch(m)
	f := finding.Finding{
		Kind:        finding.KindRuntime,
		RuleID:      m.Rule.Name,
		Severity:    m.Rule.Priority.Severity(),
		Title:       m.Rule.Name,
		Message:     m.Output,
		Description: m.Rule.Desc,
		Target:      m.Hostname,
		Tags:        a.Tags,
		Runtime: &finding.Runtime{Time: a.Time, Priority: a.Priority, Output: a.Output, OutputFields: a.OutputFields,
			Source: a.Source, Hostname: a.Hostname},
	}
	if f.Target == "" {
		f.Target = "localhost"
	}
	proc := m.Process
	f.Location.Process = &proc
	if m.Container != nil {
		c := *m.Container
		f.Location.Container = &c
	}
	cid := "host"
	if m.Container != nil {
		cid = m.Container.ID
	}
	f.Fingerprint = finding.Fingerprint(string(finding.KindRuntime), m.Rule.Name, f.Target, cid, proc.Exe, proc.Cmdline)
	return f
}

// Sink receives alerts. Send must not block for long; Close flushes.
type Sink interface {
	Send(ctx context.Context, a *Alert) error
	Close() error
}

// TextSink writes Falco's text line ("time: Priority output").
type TextSink struct {
	mu sync.Mutex
	w  io.Writer
}

// NewTextSink writes text lines to w.
func NewTextSink(w io.Writer) *TextSink { return &TextSink{w: w} }

// Send writes one line.
func (s *TextSink) Send(_ context.Context, a *Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := io.WriteString(s.w, strings.ReplaceAll(a.Output, "\n", " ")+"\n")
	return err
}

// Close does nothing.
func (s *TextSink) Close() error { return nil }

// JSONSink writes one JSON alert per line.
type JSONSink struct {
	mu  sync.Mutex
	enc *json.Encoder
	c   io.Closer
}

// NewJSONSink writes JSON lines to w.
func NewJSONSink(w io.Writer) *JSONSink { return &JSONSink{enc: json.NewEncoder(w)} }

// Send writes one alert.
func (s *JSONSink) Send(_ context.Context, a *Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc.Encode(a)
}

// Close closes the underlying file, if the sink owns one.
func (s *JSONSink) Close() error {
	if s.c != nil {
		return s.c.Close()
	}
	return nil
}

// NewFileSink appends JSON lines (json=true) or text lines to a file,
// created with mode 0600.
func NewFileSink(path string, asJSON bool) (Sink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alert file: %w", err)
	}
	if asJSON {
		s := NewJSONSink(f)
		s.c = f
		return s, nil
	}
	return &fileText{TextSink: TextSink{w: f}, f: f}, nil
}

type fileText struct {
	TextSink
	f *os.File
}

func (s *fileText) Close() error { return s.f.Close() }

// RateLimiter allows at most Burst alerts per rule at once, refilled at
// Rate per second (a token bucket per rule), and counts what it dropped.
type RateLimiter struct {
	Rate  float64
	Burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	dropped map[string]uint64
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter; rate <= 0 disables limiting.
func NewRateLimiter(rate float64, burst int) *RateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &RateLimiter{Rate: rate, Burst: float64(burst), buckets: map[string]*bucket{}, dropped: map[string]uint64{}}
}

// Allow reports whether an alert of rule may go out at time now.
func (l *RateLimiter) Allow(rule string, now time.Time) bool {
	if l == nil || l.Rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[rule]
	if b == nil {
		if len(l.buckets) > 100000 {
			l.buckets = map[string]*bucket{}
		}
		b = &bucket{tokens: l.Burst, last: now}
		l.buckets[rule] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.Burst, b.tokens+el*l.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	l.dropped[rule]++
	return false
}

// Dropped returns the number of alerts dropped per rule.
func (l *RateLimiter) Dropped() map[string]uint64 {
	out := map[string]uint64{}
	if l == nil {
		return out
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.dropped {
		out[k] = v
	}
	return out
}

// Dispatcher rate-limits alerts and fans them out to sinks.
type Dispatcher struct {
	Sinks   []Sink
	Limiter *RateLimiter
	// Clock decides rate-limit time; nil uses the alert's event time.
	Clock func() time.Time

	mu     sync.Mutex
	sent   uint64
	errors uint64
	last   error
}

// Dispatch sends the alert of m to every sink unless rate-limited; it
// reports whether the alert went out.
func (d *Dispatcher) Dispatch(ctx context.Context, m *rules.Match) bool {
	now := time.Unix(0, m.Time)
	if d.Clock != nil {
		now = d.Clock()
	}
	if !d.Limiter.Allow(m.Rule.Name, now) {
		return false
	}
	d.send(ctx, FromMatch(m))
	return true
}

// DispatchAlert sends an alert built elsewhere (drift alerts) like
// Dispatch.
func (d *Dispatcher) DispatchAlert(ctx context.Context, a Alert) bool {
	now, err := time.Parse(time.RFC3339Nano, a.Time)
	if d.Clock != nil || err != nil {
		now = time.Now()
		if d.Clock != nil {
			now = d.Clock()
		}
	}
	if !d.Limiter.Allow(a.Rule, now) {
		return false
	}
	d.send(ctx, a)
	return true
}

func (d *Dispatcher) send(ctx context.Context, a Alert) {
	for _, s := range d.Sinks {
		if err := s.Send(ctx, &a); err != nil {
			d.mu.Lock()
			d.errors++
			d.last = err
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	d.sent++
	d.mu.Unlock()
}

// Close closes every sink, returning the first error.
func (d *Dispatcher) Close() error {
	var errs []error
	for _, s := range d.Sinks {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats reports counters.
func (d *Dispatcher) Stats() (sent, sinkErrors uint64, rateLimited map[string]uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sent, d.errors, d.Limiter.Dropped()
}
