package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wardsec/ward/internal/baseline"
	"github.com/wardsec/ward/internal/baseline/capture"
	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// isCaptureFile reports whether f starts like a capture file (JSON) rather
// than an event file (WARDEVTS); f is rewound.
func isCaptureFile(f *os.File) bool {
	var b [1]byte
	n, _ := f.Read(b[:])
	f.Seek(0, io.SeekStart)
	return n == 1 && b[0] == '{'
}

// replaySource yields events (and, for captures, the phase: seed events
// only rebuild state) from an event file or a capture file.
type replaySource interface {
	next(ev *event.Event) (phase string, err error)
}

type wevtSource struct{ r *event.Reader }

func (s wevtSource) next(ev *event.Event) (string, error) { return "", s.r.Read(ev) }

type captureSource struct {
	r        *capture.Reader
	rec      capture.Record
	recorded int
}

func (s *captureSource) next(ev *event.Event) (string, error) {
	for {
		if err := s.r.Next(&s.rec); err != nil {
			return "", err
		}
		if s.rec.Phase == capture.PhaseAlert {
			s.recorded++
			continue
		}
		if err := s.r.Event(&s.rec, ev); err != nil {
			return "", err
		}
		return s.rec.Phase, nil
	}
}

// replayDrift replays an event file or a capture file through the state
// engine, the rules and, with profiles, the drift monitor: the same
// engine and monitor ward runtime watch runs. Alerts carry their ancestry.
func replayDrift(ctx context.Context, f *os.File, name string, eng *rules.Engine, d *alert.Dispatcher, hostname, profilesDir string) (replayResult, map[string]any, error) {
	var res replayResult
	extra := map[string]any{}
	var src replaySource
	st := event.NewState(event.Options{})
	var cs *captureSource
	if isCaptureFile(f) {
		r, err := capture.NewReader(name, f)
		if err != nil {
			return res, extra, err
		}
		h := r.Header()
		st.Hostname = h.Hostname
		cs = &captureSource{r: r}
		src = cs
		extra["capture"] = map[string]any{"trigger_rule": h.Trigger, "created": h.Created, "ring": h.Ring, "after": h.After, "container": h.Ctr}
	} else {
		rd := event.NewReader(f)
		hdr, err := rd.Header()
		if err != nil {
			return res, extra, err
		}
		st.Hostname = hdr.Hostname
		src = wevtSource{rd}
	}
	if hostname != "" {
		st.Hostname = hostname
	}
	res.hostname = st.Hostname
	var mon *baseline.Monitor
	if profilesDir != "" {
		ps, err := baseline.LoadDir(profilesDir)
		if err != nil {
			return res, extra, usagef("--profiles: %v", err)
		}
		mon = baseline.NewMonitor(ps, 0)
		extra["profiles"] = len(ps)
	}
	add := func(a alert.Alert) {
		res.alerts++
		if !d.DispatchAlert(ctx, a) {
			return
		}
		res.addFinding(alertFinding(&a))
	}
	drifts := 0
	var ev event.Event
	for {
		phase, err := src.next(&ev)
		if err != nil {
			res.state = st.Stats()
			if cs != nil {
				extra["recorded_alerts"] = cs.recorded
			}
			extra["drift_alerts"] = drifts
			if err == io.EOF {
				return res, extra, nil
			}
			return res, extra, err
		}
		if res.events%4096 == 0 && ctx.Err() != nil {
			return res, extra, ctx.Err()
		}
		st.Apply(&ev)
		if phase == capture.PhaseSeed {
			continue
		}
		res.events++
		eng.Eval(&ev, st, func(m *rules.Match) {
			a := alert.FromMatch(m)
			alert.AddContext(&a, st, ev.PID, alert.DefaultAncestry)
			add(a)
		})
		if mon != nil {
			mon.Observe(&ev, st, func(dr *baseline.Drift) {
				drifts++
				a := dr.Alert(st.Hostname)
				alert.AddContext(&a, st, dr.Process.PID, alert.DefaultAncestry)
				add(a)
			})
		}
	}
}

// alertFinding is the Ward finding of an alert (rule or drift), with the
// ancestry summarised in runtime.extra.ancestry.
func alertFinding(a *alert.Alert) finding.Finding {
	sev := finding.SeverityLow
	if p, err := rules.ParsePriority(a.Priority); err == nil {
		sev = p.Severity()
	}
	target := a.Hostname
	if target == "" {
		target = "localhost"
	}
	f := finding.Finding{Kind: finding.KindRuntime, RuleID: a.Rule, Severity: sev, Title: a.Rule, Message: a.Output,
		Target: target, Tags: a.Tags,
		Runtime: &finding.Runtime{Time: a.Time, Priority: a.Priority, Output: a.Output, OutputFields: a.OutputFields,
			Source: a.Source, Hostname: a.Hostname}}
	cid, exe, cmd := "host", "", ""
	if len(a.Ancestry) > 0 {
		p := a.Ancestry[0]
		exe = p.Exe
		cmd = joinArgs(p.Args)
		f.Location.Process = &finding.Process{PID: int(p.PID), PPID: int(p.PPID), Name: p.Comm, Exe: p.Exe, Cmdline: cmd, UID: int(p.EUID)}
		var b bytes.Buffer
		for i, q := range a.Ancestry {
			if i > 0 {
				b.WriteString(" <- ")
			}
			fmt.Fprintf(&b, "%s(%d)", q.Comm, q.PID)
		}
		f.Runtime.Extra = map[string]string{"ancestry": b.String()}
	}
	if c := a.Container; c != nil {
		cid = c.ID
		f.Location.Container = &finding.Container{ID: c.ID, Name: c.Name, Image: c.Image, PodName: c.PodName, PodNamespace: c.PodNamespace}
	}
	f.Fingerprint = finding.Fingerprint(string(finding.KindRuntime), a.Rule, target, cid, exe, cmd)
	return f
}

func joinArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}
