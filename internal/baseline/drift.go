package baseline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

func sortProfiles(ps []*Profile) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Identity.Key() < ps[j].Identity.Key() })
}

// LoadDir reads every *.yaml / *.yml profile in dir; profiles of the same
// identity are merged.
func LoadDir(dir string) ([]*Profile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	byKey := map[string]*Profile{}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		p, err := LoadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		if old := byKey[p.Identity.Key()]; old != nil {
			if err := old.Merge(p); err != nil {
				return nil, err
			}
			continue
		}
		byKey[p.Identity.Key()] = p
	}
	out := make([]*Profile, 0, len(byKey))
	for _, p := range byKey {
		out = append(out, p)
	}
	sortProfiles(out)
	return out, nil
}

// LoadFile reads one profile.
func LoadFile(name string) (*Profile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	defer f.Close()
	return Parse(name, f)
}

// Drift is one event outside a workload's profile.
type Drift struct {
	Rule      string // "Ward drift: …"
	Section   string // profile section the entry is missing from
	Missing   string // the missing entry
	Profile   string // identity key
	Time      int64
	Process   event.Process
	Event     event.Type
	Container *event.Container
}

// Drift rule names.
const (
	RuleExec     = "Ward drift: unexpected executable"
	RuleEdge     = "Ward drift: unexpected process spawn"
	RuleRead     = "Ward drift: unexpected file read"
	RuleWrite    = "Ward drift: unexpected file write"
	RuleListen   = "Ward drift: unexpected listening port"
	RuleOutbound = "Ward drift: unexpected outbound connection"
	RuleSyscall  = "Ward drift: unexpected syscall"
)

type compiled struct {
	p     *Profile
	execs map[string]bool // path, and path\x00sha when hashed
	sets  map[string]struct{}
}

// Checker compares events with profiles. Workloads without a profile are
// not checked. Not safe for concurrent use.
type Checker struct {
	byKey map[string]*compiled
	byCID map[string]*compiled
	// Hash checks executables' sha256 when the profile has one.
	Hash   bool
	hashes map[hashKey]string
	// seen suppresses repeated alerts for the same missing entry.
	seen map[string]struct{}
}

// NewChecker compiles profiles for drift checking.
func NewChecker(ps []*Profile) *Checker {
	c := &Checker{byKey: map[string]*compiled{}, byCID: map[string]*compiled{}, hashes: map[hashKey]string{}, seen: map[string]struct{}{}}
	for _, p := range ps {
		c.add(p)
	}
	return c
}

func (c *Checker) add(p *Profile) {
	{
		cp := &compiled{p: p, execs: map[string]bool{}, sets: map[string]struct{}{}}
		for _, e := range p.Executables {
			cp.execs[e.Path] = cp.execs[e.Path] || e.SHA256 != ""
			if e.SHA256 != "" {
				cp.sets["x:"+e.Path+"\x00"+e.SHA256] = struct{}{}
			}
		}
		for _, e := range p.ExecEdges {
			cp.sets["e:"+e.key()] = struct{}{}
		}
		for _, f := range p.Files.Read {
			cp.sets["r:"+f] = struct{}{}
		}
		for _, f := range p.Files.Write {
			cp.sets["w:"+f] = struct{}{}
			cp.sets["r:"+f] = struct{}{} // rw implies r
		}
		for _, l := range p.Listen {
			cp.sets["l:"+l.key()] = struct{}{}
		}
		for _, o := range p.Outbound {
			cp.sets["o:"+o.key()] = struct{}{}
		}
		for _, s := range p.Syscalls {
			cp.sets["s:"+s] = struct{}{}
		}
		// The generated seccomp profiles always allow the base set: a
		// rarely seen base syscall is not drift.
		for _, s := range RuntimeBaseSyscalls {
			cp.sets["s:"+s] = struct{}{}
		}
		c.byKey[p.Identity.Key()] = cp
	}
}

// Check reports the drifts of ev (after st.Apply(ev)) to fn.
func (c *Checker) Check(ev *event.Event, st *event.State, fn func(*Drift)) {
	p := st.Current()
	if p == nil || p.ContainerID == "" || p.ContainerID == "host" || runtimeHelper(p) {
		return
	}
	cp, ok := c.byCID[p.ContainerID]
	if !ok {
		ct := st.Container(p.ContainerID)
		if ct == nil {
			return
		}
		cp = c.byKey[IdentityOf(ct).Key()]
		if len(c.byCID) < MaxWorkloads*16 {
			c.byCID[p.ContainerID] = cp
		}
	}
	if cp == nil {
		return
	}
	report := func(rule, section, missing string) {
		k := cp.p.Identity.Key() + "\x00" + rule + "\x00" + missing
		if _, dup := c.seen[k]; dup {
			return
		}
		if len(c.seen) < MaxEntries*64 {
			c.seen[k] = struct{}{}
		}
		fn(&Drift{Rule: rule, Section: section, Missing: missing, Profile: cp.p.Identity.Key(), Time: ev.TS,
			Process: *p, Event: ev.Type, Container: st.Container(p.ContainerID)})
	}
	has := func(k string) bool { _, ok := cp.sets[k]; return ok }
	if name := syscallName(ev.Type); name != "" && !has("s:"+name) {
		report(RuleSyscall, "syscalls", name)
	}
	if ev.Type == event.TypeConnect {
		// Attempts count, refused or in progress: the peer is the drift.
		if peer, ok := outboundPeer(ev, st); ok && !has("o:"+peer.key()) {
			report(RuleOutbound, "outbound", fmt.Sprintf("%s %s:%d", peer.Proto, peer.IP, peer.Port))
		}
		return
	}
	if ev.Res < 0 {
		return
	}
	switch {
	case ev.Type.IsExec():
		exe := p.ExePath
		hashed, known := cp.execs[exe]
		switch {
		case !known:
			report(RuleExec, "executables", exe)
		case hashed && c.Hash:
			k := hashKey{ino: ev.ExeIno, mtime: ev.ExeMtime, path: exe}
			sum, ok := c.hashes[k]
			if !ok {
				sum = hashExe(p.PID)
				if len(c.hashes) < MaxEntries*4 && ev.ExeIno != 0 {
					c.hashes[k] = sum
				}
			}
			if sum != "" && !has("x:"+exe+"\x00"+sum) {
				report(RuleExec, "executables", exe+" sha256:"+sum)
			}
		}
		if par := st.Parent(p); par != nil && par.ExePath != "" && par.ContainerID == p.ContainerID && !runtimeHelper(par) {
			e := ExecEdge{Parent: par.ExePath, Child: exe}
			if !has("e:" + e.key()) {
				report(RuleEdge, "execEdges", e.Parent+" -> "+e.Child)
			}
		}
	case ev.Type.IsOpen():
		if f := st.CurrentFD(); f != nil && f.Name != "" {
			if pat := Collapse(f.Name); pat != "" {
				if f.Flags&event.OAccmode != event.ORdonly || f.Flags&event.OCreat != 0 {
					if !has("w:" + pat) {
						report(RuleWrite, "files.write", pat)
					}
				} else if !has("r:" + pat) {
					report(RuleRead, "files.read", pat)
				}
			}
		}
	case ev.Type == event.TypeListen:
		if f := st.CurrentFD(); f != nil {
			if port, ok := listenPort(f); ok && !has("l:"+port.key()) {
				report(RuleListen, "listen", fmt.Sprintf("%s/%d", port.Proto, port.Port))
			}
		}
	case ev.Type == event.TypeSendto, ev.Type == event.TypeSendmsg:
		if peer, ok := outboundPeer(ev, st); ok && !has("o:"+peer.key()) {
			report(RuleOutbound, "outbound", fmt.Sprintf("%s %s:%d", peer.Proto, peer.IP, peer.Port))
		}
	}
}

// Alert is the Falco-shaped alert of a drift. The missing profile entry is
// in output_fields as ward.profile.section and ward.profile.missing.
func (d *Drift) Alert(hostname string) alert.Alert {
	t := time.Unix(0, d.Time).UTC()
	f := map[string]any{
		"evt.type":             d.Event.String(),
		"proc.pid":             d.Process.PID,
		"proc.exepath":         d.Process.ExePath,
		"proc.cmdline":         strings.Join(d.Process.Args, " "),
		"user.uid":             d.Process.UID,
		"container.id":         shortID(d.Process.ContainerID),
		"ward.profile":         d.Profile,
		"ward.profile.section": d.Section,
		"ward.profile.missing": d.Missing,
	}
	if d.Container != nil {
		f["container.name"] = d.Container.Name
		f["container.image"] = d.Container.Image
		if d.Container.PodName != "" {
			f["k8s.pod.name"] = d.Container.PodName
			f["k8s.ns.name"] = d.Container.PodNamespace
		}
	}
	prio := "Warning"
	if d.Rule == RuleExec || d.Rule == RuleOutbound || d.Rule == RuleWrite {
		prio = "Error"
	}
	out := fmt.Sprintf("%s (profile=%s missing %s=%s proc=%s pid=%d container=%s)", d.Rule, d.Profile, d.Section,
		d.Missing, d.Process.ExePath, d.Process.PID, shortID(d.Process.ContainerID))
	return alert.Alert{
		Time:         t.Format(time.RFC3339Nano),
		Rule:         d.Rule,
		Priority:     prio,
		Output:       t.Format("15:04:05.000000000") + ": " + prio + " " + out,
		OutputFields: f,
		Tags:         []string{"ward", "drift", d.Section},
		Source:       "syscall",
		Hostname:     hostname,
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
