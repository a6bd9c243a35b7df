// Package watch runs Ward's live runtime detection: the eBPF sensor feeds
// the state engine, the compiled Falco-compatible rules are evaluated on
// every event, and matches go to the caller together with the response
// actions the policy asked for. It can also record the event stream in the
// replay format (ward runtime record).
package watch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/response"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/sensor"
)

// Options configure a watch.
type Options struct {
	// Engine holds the compiled rules; nil records without evaluating.
	Engine *rules.Engine
	// Sensor options; Types defaults to the engine's event types.
	Sensor sensor.Options
	// Policy chooses response actions; nil means none.
	Policy *response.Policy
	// Record, if set, receives every event in the replay format.
	Record *event.Writer
	// OnMatch is called for every alert with the actions taken for it.
	OnMatch func(m *rules.Match, actions []response.Record)
	// OnMatchState, if set, is called after OnMatch with the state the
	// match was evaluated against (forensic context: process ancestry,
	// container). It must not keep st.
	OnMatchState func(m *rules.Match, st *event.State, actions []response.Record)
	// OnEvent, if set, sees every event after the state engine applied
	// it (baseline learning and drift checking).
	OnEvent func(ev *event.Event, st *event.State)
	// ExtraTypes are captured on top of the engine's event types.
	ExtraTypes []event.Type
	// OnStart is called once the sensor is attached and the /proc snapshot
	// loaded: events from then on are seen (callers and tests wait for it).
	OnStart func(Started)
	// NoSnapshot skips the /proc snapshot (tests).
	NoSnapshot bool
	// NoKernelFilter delivers every open and close to user space instead
	// of dropping, in the kernel, the opens no rule can match and the
	// closes of fds user space cannot know.
	NoKernelFilter bool
	Logger         *slog.Logger
}

// Started describes a sensor that is attached and watching.
type Started struct {
	Hooks    sensor.Hooks
	Snapshot event.SnapshotStats
	// Usage reads what the syscall learner saw so far
	// (Sensor.LearnSyscalls; an error without it). Safe to call from any
	// goroutine until Run returns.
	Usage func() ([]sensor.Usage, error)
}

// Stats summarise a watch.
type Stats struct {
	Hooks   sensor.Hooks        `json:"hooks"`
	Sensor  sensor.Stats        `json:"sensor"`
	State   event.Stats         `json:"state"`
	Alerts  uint64              `json:"alerts"`
	Actions uint64              `json:"actions"`
	Proc    event.SnapshotStats `json:"snapshot"`
	// Usage is what the syscall learner saw each container use
	// (Sensor.LearnSyscalls), read when the watch ends.
	Usage []sensor.Usage `json:"usage,omitempty"`
}

// Run watches until ctx is done, then detaches the sensor and returns the
// counters.
func Run(ctx context.Context, opts Options) (Stats, error) {
	var stats Stats
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	so := opts.Sensor
	if so.Types == nil && opts.Engine != nil {
		so.Types = opts.Engine.EventTypes()
	}
	if so.Types != nil && len(opts.ExtraTypes) > 0 {
		so.Types = append(append([]event.Type(nil), so.Types...), opts.ExtraTypes...)
	}
	if opts.Engine == nil {
		so.Types = nil // recording: everything
	} else if so.OpenPaths == nil && !opts.NoKernelFilter {
		if of := opts.Engine.OpenFilter(); !of.All {
			so.OpenPaths = &sensor.OpenPaths{Prefixes: of.Prefixes, Suffixes: of.Suffixes}
		}
	}
	if so.Resolver == nil {
		so.Resolver = &sensor.Resolver{}
	}
	so.Logger = log
	s, err := sensor.New(so)
	if err != nil {
		return stats, err
	}
	defer s.Close()

	st := event.NewState(event.Options{})
	if h, err := os.Hostname(); err == nil {
		st.Hostname = h
	}
	if !opts.NoSnapshot {
		ps, err := st.LoadProc(event.SnapshotOptions{})
		if err != nil {
			log.Debug("proc snapshot", "err", err)
		}
		stats.Proc = ps
	}
	if opts.Engine != nil && !opts.NoKernelFilter {
		// Closes of fds user space cannot know are dropped in the kernel
		// from now on; the snapshot's fds are known.
		var seedErr error
		st.Processes(func(p *event.Process) {
			var fds []int32
			p.FDs(func(f *event.FD) { fds = append(fds, f.Num) })
			if err := s.SeedFDs(uint32(p.PID), fds); err != nil && seedErr == nil {
				seedErr = err
			}
		})
		if seedErr != nil {
			log.Debug("fd tracking: every close is delivered", "err", seedErr)
		} else if err := s.FDTrackingReady(); err != nil {
			return stats, err
		}
	}
	stats.Hooks = s.Hooks()
	if opts.OnStart != nil {
		opts.OnStart(Started{Hooks: stats.Hooks, Snapshot: stats.Proc, Usage: s.Usage})
	}
	var alerts, actions atomic.Uint64
	resolver := so.Resolver
	var recErr error
	handle := func(ev *event.Event) {
		st.Apply(ev)
		if p := st.Current(); p != nil && p.ContainerID != "" && p.ContainerID != sensor.HostID && st.Container(p.ContainerID) == nil {
			st.AddContainer(resolver.Lookup(p.ContainerID, ""))
		}
		if opts.OnEvent != nil {
			opts.OnEvent(ev, st)
		}
		if opts.Record != nil && recErr == nil {
			recErr = opts.Record.Write(ev)
		}
		if opts.Engine == nil {
			return
		}
		opts.Engine.Eval(ev, st, func(m *rules.Match) {
			alerts.Add(1)
			var recs []response.Record
			if opts.Policy != nil {
				inContainer := m.Container != nil
				cid := ""
				if inContainer {
					cid = m.Container.ID
				}
				for _, a := range opts.Policy.Select(m.Rule.Name, m.Rule.Tags, inContainer) {
					rec := opts.Policy.Do(a, m.Rule.Name, m.Process.PID, m.Process.PPID, cid)
					actions.Add(1)
					recs = append(recs, rec)
				}
			}
			if opts.OnMatch != nil {
				opts.OnMatch(m, recs)
			}
			if opts.OnMatchState != nil {
				opts.OnMatchState(m, st, recs)
			}
		})
	}
	runErr := s.Run(ctx, handle)
	stats.Sensor = s.Stats()
	if so.LearnSyscalls {
		u, err := s.Usage()
		if err != nil && runErr == nil {
			runErr = err
		}
		stats.Usage = u
	}
	stats.State = st.Stats()
	stats.Alerts = alerts.Load()
	stats.Actions = actions.Load()
	if runErr != nil {
		return stats, runErr
	}
	if recErr != nil {
		return stats, fmt.Errorf("recording events: %w", recErr)
	}
	if opts.Record != nil {
		if err := opts.Record.Flush(); err != nil {
			return stats, fmt.Errorf("recording events: %w", err)
		}
	}
	return stats, nil
}
