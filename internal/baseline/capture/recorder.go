package capture

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

// Bounds of a Recorder.
const (
	// MaxRing caps the ring size (events per container).
	MaxRing = 100000
	// MaxRingEvents caps the ring slots of all containers together; the
	// number of containers followed is MaxRingEvents / ring size.
	MaxRingEvents = 1 << 18
	// MaxPending caps the captures waiting for their after-events; a new
	// one writes the oldest out first.
	MaxPending = 64
	// MaxAlertsPerCapture caps the alerts folded into one capture.
	MaxAlertsPerCapture = 100
	// MaxSeedProcesses caps the processes a capture seeds the state with.
	MaxSeedProcesses = 512
	// maxData caps the I/O bytes kept per ring event.
	maxData = 1024
)

// Options configure a Recorder.
type Options struct {
	// Ring is the number of events kept per container (1..MaxRing).
	Ring int
	// After is the number of events of the container written after the
	// alert (0: none).
	After int
	// AfterWindow also ends a capture once an event this much later than
	// the first alert arrives (default 5s), and so does Close.
	AfterWindow time.Duration
	// Dir is where capture files are written (default ".").
	Dir string
	// Hostname goes into the header.
	Hostname string
	// OnWrite, if set, is told about every capture written or failed.
	OnWrite func(path string, err error)
}

// Recorder keeps the last Ring events of every container (the host counts
// as the container "host") and writes captures. Not safe for concurrent
// use: call it from the goroutine that applies events.
type Recorder struct {
	opts    Options
	rings   map[string]*ring
	order   []string // containers by first use, for eviction
	maxCtrs int
	pending []*pending
	names   map[string]bool
	stats   Stats
}

// Stats count what a Recorder did.
type Stats struct {
	Events   uint64 `json:"events"`
	Captures uint64 `json:"captures"`
	Errors   uint64 `json:"errors"`
	Evicted  uint64 `json:"containers_evicted"`
}

type ring struct {
	evs     []event.Event
	next    int
	n       int
	dropped uint64
}

type pending struct {
	path    string
	cid     string
	firstTS int64
	header  Header
	recs    []Record
	after   int
	alerts  int
}

// NewRecorder returns a recorder; it checks the options.
func NewRecorder(opts Options) (*Recorder, error) {
	if opts.Ring < 1 || opts.Ring > MaxRing {
		return nil, fmt.Errorf("capture ring of %d events: want 1 to %d", opts.Ring, MaxRing)
	}
	if opts.After < 0 || opts.After > MaxRing {
		return nil, fmt.Errorf("capture of %d events after the alert: want 0 to %d", opts.After, MaxRing)
	}
	if opts.AfterWindow <= 0 {
		opts.AfterWindow = 5 * time.Second
	}
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if fi, err := os.Stat(opts.Dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = fmt.Errorf("not a directory")
		}
		return nil, fmt.Errorf("capture directory %s: %w", opts.Dir, err)
	}
	return &Recorder{opts: opts, rings: map[string]*ring{}, maxCtrs: max(1, MaxRingEvents/opts.Ring), names: map[string]bool{}}, nil
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats { return r.stats }

func ctrKey(id string) string {
	if id == "" {
		return "host"
	}
	return id
}

// Add appends ev (after st.Apply(ev)) to its container's ring, and to the
// captures waiting for after-events.
func (r *Recorder) Add(ev *event.Event, st *event.State) {
	r.stats.Events++
	cid := ev.ContainerID
	if p := st.Current(); p != nil && p.ContainerID != "" {
		cid = p.ContainerID
	}
	cid = ctrKey(cid)
	if len(r.pending) > 0 {
		r.feedPending(ev, cid)
	}
	rg := r.rings[cid]
	if rg == nil {
		if len(r.rings) >= r.maxCtrs {
			r.evict()
		}
		rg = &ring{evs: make([]event.Event, 0, min(r.opts.Ring, 64))}
		r.rings[cid] = rg
		r.order = append(r.order, cid)
	}
	var slot *event.Event
	if len(rg.evs) < r.opts.Ring {
		rg.evs = append(rg.evs, event.Event{})
		slot = &rg.evs[len(rg.evs)-1]
		rg.next = len(rg.evs) % r.opts.Ring
	} else {
		slot = &rg.evs[rg.next]
		rg.next = (rg.next + 1) % r.opts.Ring
		rg.dropped++
	}
	copyEvent(slot, ev)
	rg.n = len(rg.evs)
}

// copyEvent deep-copies ev into dst, reusing dst's slices.
func copyEvent(dst, ev *event.Event) {
	args, env, data := dst.Args[:0], dst.Env[:0], dst.Data[:0]
	*dst = *ev
	dst.Args = append(args, ev.Args...)
	dst.Env = append(env, ev.Env...)
	d := ev.Data
	if len(d) > maxData {
		d = d[:maxData]
	}
	dst.Data = append(data, d...)
	if ev.Container != nil {
		c := *ev.Container
		dst.Container = &c
	}
}

func (r *Recorder) evict() {
	// drop the container seen first (containers come and go; the oldest
	// is the likeliest gone)
	for len(r.order) > 0 {
		cid := r.order[0]
		r.order = r.order[1:]
		if _, ok := r.rings[cid]; ok {
			delete(r.rings, cid)
			r.stats.Evicted++
			return
		}
	}
}

// Forget drops the ring of a container that stopped.
func (r *Recorder) Forget(cid string) { delete(r.rings, ctrKey(cid)) }

func (r *Recorder) feedPending(ev *event.Event, cid string) {
	keep := r.pending[:0]
	for _, p := range r.pending {
		done := false
		if p.cid == cid && p.after > 0 {
			p.recs = append(p.recs, Record{Phase: PhaseAfter, Event: FromEvent(ev)})
			p.after--
			done = p.after == 0
		}
		if ev.TS-p.firstTS > int64(r.opts.AfterWindow) {
			done = true
		}
		if done {
			r.write(p)
			continue
		}
		keep = append(keep, p)
	}
	for i := len(keep); i < len(r.pending); i++ {
		r.pending[i] = nil
	}
	r.pending = keep
}

// Trigger records that alert a fired on ev (already added) in the process
// pid, and returns the path of the capture file that will hold it: a new
// capture of the container's ring, or the capture still waiting for
// after-events of the same container. The file is written once After
// events followed (or AfterWindow passed, or at Close).
func (r *Recorder) Trigger(a *alert.Alert, ev *event.Event, st *event.State, pid int32) string {
	cid := ev.ContainerID
	if p := st.Process(pid); p != nil && p.ContainerID != "" {
		cid = p.ContainerID
	}
	cid = ctrKey(cid)
	for _, p := range r.pending {
		if p.cid != cid {
			continue
		}
		if p.alerts < MaxAlertsPerCapture {
			p.alerts++
			// the trigger event was already fed to it as an after-event
			if n := len(p.recs); n > 0 && p.recs[n-1].Phase == PhaseAfter && p.recs[n-1].Event.Num == ev.Num && p.recs[n-1].Event.TS == ev.TS {
				p.recs[n-1].Phase = PhaseTrigger
			}
			ac := *a
			ac.Capture = p.path
			p.recs = append(p.recs, Record{Phase: PhaseAlert, Alert: &ac})
		}
		return p.path
	}
	if len(r.pending) >= MaxPending {
		r.write(r.pending[0])
		r.pending = r.pending[1:]
	}
	p := &pending{cid: cid, firstTS: ev.TS, after: r.opts.After, alerts: 1}
	p.path = r.name(cid, ev.TS)
	p.header = Header{Format: FormatName, Version: Version, Hostname: r.opts.Hostname,
		Created: time.Unix(0, ev.TS).UTC().Format(time.RFC3339Nano), Trigger: a.Rule, Ring: r.opts.Ring, After: r.opts.After,
		Ctr: alert.ContainerOf(st, cid)}
	p.recs = seed(st, cid, pid)
	if rg := r.rings[cid]; rg != nil {
		p.header.Dropped = rg.dropped
		start := 0
		if len(rg.evs) == r.opts.Ring {
			start = rg.next
		}
		for i := 0; i < len(rg.evs); i++ {
			e := &rg.evs[(start+i)%len(rg.evs)]
			phase := PhaseBefore
			if i == len(rg.evs)-1 && e.Num == ev.Num && e.TS == ev.TS {
				phase = PhaseTrigger
			}
			p.recs = append(p.recs, Record{Phase: phase, Event: FromEvent(e)})
		}
	}
	ac := *a
	ac.Capture = p.path
	p.recs = append(p.recs, Record{Phase: PhaseAlert, Alert: &ac})
	if p.after == 0 {
		r.write(p)
		return p.path
	}
	r.pending = append(r.pending, p)
	return p.path
}

// Close writes the captures still waiting for after-events.
func (r *Recorder) Close() {
	for _, p := range r.pending {
		r.write(p)
	}
	r.pending = nil
}

func (r *Recorder) name(cid string, ts int64) string {
	short := cid
	if len(short) > 12 {
		short = short[:12]
	}
	short = sanitize(short)
	base := "ward-capture-" + short + "-" + strconv.FormatInt(ts, 10)
	name := filepath.Join(r.opts.Dir, base+".jsonl")
	for i := 1; r.names[name] || exists(name); i++ {
		name = filepath.Join(r.opts.Dir, base+"-"+strconv.Itoa(i)+".jsonl")
	}
	r.names[name] = true
	if len(r.names) > 4096 {
		r.names = map[string]bool{name: true}
	}
	return name
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// seed returns synthetic events that rebuild the state a replay needs:
// the container's metadata and the processes of the container plus the
// ancestry of pid, parents first.
func seed(st *event.State, cid string, pid int32) []Record {
	var out []Record
	if c := st.Container(cid); c != nil {
		ev := event.Event{Type: event.TypeContainerStart, TS: c.StartTS, ContainerID: c.ID, Container: c, LoginUID: -1}
		out = append(out, Record{Phase: PhaseSeed, Event: FromEvent(&ev)})
	}
	procs := map[int32]*event.Process{}
	for _, a := range alert.Ancestry(st, pid, alert.MaxAncestry) {
		if p := st.Process(a.PID); p != nil {
			procs[p.PID] = p
		}
	}
	if cid != "host" {
		st.Processes(func(p *event.Process) {
			if p.ContainerID == cid && len(procs) < MaxSeedProcesses && !p.Exited {
				procs[p.PID] = p
			}
		})
	}
	list := make([]*event.Process, 0, len(procs))
	for _, p := range procs {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].StartTS != list[j].StartTS {
			return list[i].StartTS < list[j].StartTS
		}
		return list[i].PID < list[j].PID
	})
	for _, p := range list {
		ts := p.ExecTS
		if ts == 0 {
			ts = p.StartTS
		}
		ev := event.Event{Type: event.TypeExecve, TS: ts, PID: p.PID, TID: p.PID, PPID: p.PPID, PGID: p.PGID, SID: p.SID,
			VPID: p.VPID, VTID: p.VPID, VPGID: p.VPGID, Path: p.ExePath, Comm: p.Comm, Args: p.Args, Env: p.Env, Cwd: p.Cwd,
			UID: p.UID, GID: p.GID, EUID: p.EUID, EGID: p.EGID, LoginUID: p.LoginUID, CapEff: p.CapEff, CapPrm: p.CapPrm,
			CapInh: p.CapInh, TTY: p.TTY, ExeFlags: p.ExeFlags, ExeIno: p.ExeIno, ExeCtime: p.ExeCtime, ExeMtime: p.ExeMtime,
			ContainerID: p.ContainerID}
		out = append(out, Record{Phase: PhaseSeed, Event: FromEvent(&ev)})
	}
	return out
}

// write writes p atomically: a temporary file beside the target, renamed
// into place once complete.
func (r *Recorder) write(p *pending) {
	err := WriteFile(p.path, p.header, p.recs)
	if err != nil {
		r.stats.Errors++
	} else {
		r.stats.Captures++
	}
	if r.opts.OnWrite != nil {
		r.opts.OnWrite(p.path, err)
	}
}

// WriteFile writes a capture atomically (temporary file, then rename):
// the header (its counts filled in from recs) and the records.
func WriteFile(path string, h Header, recs []Record) error {
	h.Format, h.Version = FormatName, Version
	h.Records, h.Events, h.Alerts = len(recs), 0, 0
	for _, rc := range recs {
		if rc.Alert != nil {
			h.Alerts++
		} else {
			h.Events++
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 64<<10)
	werr := writeLine(w, h)
	for i := range recs {
		if werr != nil {
			break
		}
		werr = writeLine(w, &recs[i])
	}
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("capture %s: %w", path, werr)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}

func writeLine(w *bufio.Writer, v any) error {
	b, err := marshalLine(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
