package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/baseline/capture"
	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

// captureOptions are the forensic flags of ward runtime watch: process
// ancestry in every alert and, with --capture, capture files.
type captureOptions struct {
	ring     int
	after    int
	dir      string
	ancestry int
}

func (o *captureOptions) register(f *pflag.FlagSet) {
	f.IntVar(&o.ring, "capture", 0, fmt.Sprintf("keep the last N events of every container in memory and, when an alert fires, write them with the alert to a capture file for ward runtime replay (0: off; at most %d)", capture.MaxRing))
	f.IntVar(&o.after, "capture-after", -1, "with --capture, also write this many of the container's events after the alert, within 5s (default: the --capture value)")
	f.StringVar(&o.dir, "capture-dir", ".", "directory capture files are written to")
	f.IntVar(&o.ancestry, "ancestry", alert.DefaultAncestry, fmt.Sprintf("processes of the alerting process's ancestry each alert carries, up to the container init or PID 1 (at most %d)", alert.MaxAncestry))
}

// alertContext decorates alerts with their forensic context.
type alertContext struct {
	rec      *capture.Recorder
	ancestry int
}

func (o *captureOptions) context(host string, log *slog.Logger) (*alertContext, error) {
	if o.ancestry < 0 || o.ancestry > alert.MaxAncestry {
		return nil, usagef("--ancestry: want 0 to %d, not %d", alert.MaxAncestry, o.ancestry)
	}
	c := &alertContext{ancestry: o.ancestry}
	if o.ring == 0 {
		if o.after > 0 {
			return nil, usagef("--capture-after needs --capture N")
		}
		return c, nil
	}
	after := o.after
	if after < 0 {
		after = o.ring
	}
	rec, err := capture.NewRecorder(capture.Options{Ring: o.ring, After: after, Dir: o.dir, Hostname: host,
		OnWrite: func(path string, err error) {
			if err != nil {
				log.Error("capture not written", "path", path, "err", err)
				return
			}
			log.Info("capture written", "path", path)
		}})
	if err != nil {
		return nil, usagef("--capture: %v", err)
	}
	c.rec = rec
	return c, nil
}

// chain returns an OnEvent hook that feeds the capture ring, then calls
// next (nil when neither is needed).
func (c *alertContext) chain(next func(*event.Event, *event.State)) func(*event.Event, *event.State) {
	if c == nil || c.rec == nil {
		return next
	}
	return func(ev *event.Event, st *event.State) {
		c.rec.Add(ev, st)
		if ev.Type == event.TypeContainerStop {
			c.rec.Forget(ev.ContainerID)
		}
		if next != nil {
			next(ev, st)
		}
	}
}

// decorate adds the ancestry and container of pid to a and, with
// --capture, the capture file that will hold the events around it.
func (c *alertContext) decorate(a *alert.Alert, ev *event.Event, st *event.State, pid int32) {
	if c == nil {
		return
	}
	if c.ancestry > 0 {
		alert.AddContext(a, st, pid, c.ancestry)
	}
	if c.rec != nil {
		a.Capture = c.rec.Trigger(a, ev, st, pid)
	}
}

// close writes pending captures and returns the capture counters.
func (c *alertContext) close() *capture.Stats {
	if c == nil || c.rec == nil {
		return nil
	}
	c.rec.Close()
	s := c.rec.Stats()
	return &s
}
