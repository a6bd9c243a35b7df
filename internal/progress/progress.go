// Package progress draws a spinner with a counter on a terminal for work
// that lasts longer than a second. It draws nothing when disabled (output
// piped, --no-progress, --quiet), so callers use it unconditionally.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Delay is how long work runs before the spinner appears.
const Delay = time.Second

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Spinner is a running progress line. The zero value and nil are disabled.
type Spinner struct {
	w       io.Writer
	count   atomic.Int64
	mu      sync.Mutex
	label   string
	unit    string
	stop    chan struct{}
	done    chan struct{}
	drawn   bool
	stopped bool
}

// Start begins a spinner on w labelled label, counting unit ("files",
// "layers"...). When enabled is false it returns nil, which is safe to use.
func Start(w io.Writer, enabled bool, label, unit string) *Spinner {
	if !enabled || w == nil {
		return nil
	}
	s := &Spinner{w: w, label: label, unit: unit, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *Spinner) run() {
	defer close(s.done)
	timer := time.NewTimer(Delay)
	defer timer.Stop()
	select {
	case <-s.stop:
		return
	case <-timer.C:
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		s.draw(frames[i%len(frames)])
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
	}
}

func (s *Spinner) draw(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	line := frame + " " + s.label
	if n := s.count.Load(); n > 0 || s.unit != "" {
		line += fmt.Sprintf(" (%d %s)", n, s.unit)
	}
	fmt.Fprintf(s.w, "\r\x1b[K%s", line)
	s.drawn = true
}

// Add counts n more units of work.
func (s *Spinner) Add(n int64) {
	if s != nil {
		s.count.Add(n)
	}
}

// Count is the units of work counted so far (0 for a disabled spinner).
func (s *Spinner) Count() int64 {
	if s == nil {
		return 0
	}
	return s.count.Load()
}

// SetLabel changes what the spinner says.
func (s *Spinner) SetLabel(label string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.label = label
	s.mu.Unlock()
}

// Stop removes the spinner line. It is safe to call more than once.
func (s *Spinner) Stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	drawn := s.drawn
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if drawn {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
}
