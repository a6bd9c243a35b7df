package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

// MaxEntries bounds every section of a profile being learned; entries past
// it are counted in Learned.Truncated.
const MaxEntries = 4096

const einprogress = 115

// MaxWorkloads bounds the number of identities a Learner follows.
const MaxWorkloads = 4096

// MaxHashSize bounds the executables Learner hashes.
const MaxHashSize = 256 << 20

// Filter selects the workloads to learn; empty fields match everything.
type Filter struct {
	Container string // container id or its prefix
	Image     string // image reference (as given or repository:tag) or digest
	K8s       string // namespace/workload
}

func (f Filter) match(c *event.Container, id Identity) bool {
	if f.Container != "" && !strings.HasPrefix(c.ID, f.Container) {
		return false
	}
	if f.Image != "" && f.Image != c.Image && f.Image != id.Image && f.Image != c.ImageDigest &&
		f.Image != c.ImageRepo+":"+c.ImageTag {
		return false
	}
	if f.K8s != "" && f.K8s != id.Namespace+"/"+id.Workload {
		return false
	}
	return true
}

// LearnOptions configure a Learner.
type LearnOptions struct {
	Filter Filter
	// HashExecutables reads /proc/PID/exe at exec time and records its
	// sha256 (live sensors only).
	HashExecutables bool
	// Include host processes (identity "host") instead of only containers.
	Host bool
}

// Learner accumulates profiles from events. Not safe for concurrent use.
type Learner struct {
	opts   LearnOptions
	byCID  map[string]*learning // container id → profile being learned (nil: filtered out)
	byKey  map[string]*learning
	hashes map[hashKey]string
	// LastNew is the time (event ns) any profile last gained an entry.
	LastNew int64
}

type hashKey struct {
	ino   uint64
	mtime int64
	path  string
}

type learning struct {
	p       Profile
	sets    map[string]struct{}
	first   int64
	last    int64
	lastNew int64
}

// NewLearner returns an empty learner.
func NewLearner(opts LearnOptions) *Learner {
	return &Learner{opts: opts, byCID: map[string]*learning{}, byKey: map[string]*learning{}, hashes: map[hashKey]string{}}
}

var podHash = regexp.MustCompile(`^(.+?)(-[0-9a-f]{6,10})?-[0-9a-z]{5}$`)
var statefulOrdinal = regexp.MustCompile(`^(.+)-\d+$`)

// IdentityOf derives the workload identity of a container. The Kubernetes
// workload is the pod name without the ReplicaSet hash and pod suffix
// (Deployment "web-7d4b9c8f6d-x2x9q" → "web"), without a StatefulSet
// ordinal ("db-0" → "db"), or the pod label app.kubernetes.io/name or app
// when set.
func IdentityOf(c *event.Container) Identity {
	id := Identity{Image: c.Image, ImageDigest: c.ImageDigest}
	if id.Image == "" && c.ImageRepo != "" {
		id.Image = c.ImageRepo
		if c.ImageTag != "" {
			id.Image += ":" + c.ImageTag
		}
	}
	if c.PodNamespace != "" && c.PodName != "" {
		id.Namespace = c.PodNamespace
		id.Workload = workloadName(c)
		if len(c.PodLabels) > 0 {
			id.Labels = map[string]string{}
			for _, kv := range c.PodLabels {
				if kv.Key == "pod-template-hash" || kv.Key == "controller-revision-hash" ||
					kv.Key == "statefulset.kubernetes.io/pod-name" {
					continue
				}
				id.Labels[kv.Key] = kv.Value
			}
		}
	}
	return id
}

func workloadName(c *event.Container) string {
	for _, k := range []string{"app.kubernetes.io/name", "app"} {
		if v, ok := c.PodLabel(k); ok && v != "" {
			return v
		}
	}
	if _, ok := c.PodLabel("controller-revision-hash"); ok {
		if m := statefulOrdinal.FindStringSubmatch(c.PodName); m != nil {
			return m[1]
		}
	}
	if m := podHash.FindStringSubmatch(c.PodName); m != nil {
		return m[1]
	}
	return c.PodName
}

// Observe learns from ev after st.Apply(ev).
func (l *Learner) Observe(ev *event.Event, st *event.State) {
	p := st.Current()
	if p == nil {
		return
	}
	lp := l.workload(p, st)
	if lp == nil {
		return
	}
	lp.p.Learned.Events++
	if lp.first == 0 {
		lp.first = ev.TS
	}
	lp.last = ev.TS
	if name := syscallName(ev.Type); name != "" {
		l.add(lp, ev.TS, "s:"+name, func() { lp.p.Syscalls = append(lp.p.Syscalls, name) })
	}
	if ev.Res < 0 && !(ev.Type == event.TypeConnect && ev.Res == -einprogress) {
		return
	}
	switch {
	case ev.Type.IsExec():
		l.learnExec(lp, ev, p, st)
	case ev.Type.IsOpen():
		if f := st.CurrentFD(); f != nil && f.Name != "" {
			if pat := Collapse(f.Name); pat != "" {
				if f.Flags&event.OAccmode != event.ORdonly || f.Flags&event.OCreat != 0 {
					l.add(lp, ev.TS, "w:"+pat, func() { lp.p.Files.Write = append(lp.p.Files.Write, pat) })
				} else {
					l.add(lp, ev.TS, "r:"+pat, func() { lp.p.Files.Read = append(lp.p.Files.Read, pat) })
				}
			}
		}
	case ev.Type == event.TypeListen:
		if f := st.CurrentFD(); f != nil {
			if port, ok := listenPort(f); ok {
				l.add(lp, ev.TS, "l:"+port.key(), func() { lp.p.Listen = append(lp.p.Listen, port) })
				if port.Port < 1024 {
					l.addCap(lp, ev.TS, "NET_BIND_SERVICE")
				}
			}
		}
	case ev.Type == event.TypeConnect, ev.Type == event.TypeSendto, ev.Type == event.TypeSendmsg:
		if peer, ok := outboundPeer(ev, st); ok {
			l.add(lp, ev.TS, "o:"+peer.key(), func() { lp.p.Outbound = append(lp.p.Outbound, peer) })
		}
	case ev.Type == event.TypeAccept, ev.Type == event.TypeAccept4:
		if f := st.CurrentFD(); f != nil {
			if ip, ok := ipOf(f.Addr.SrcIP); ok {
				peer := Peer{IP: ip, Port: f.Addr.DstPort, Proto: "tcp"}
				l.add(lp, ev.TS, "i:"+peer.key(), func() { lp.p.Inbound = append(lp.p.Inbound, peer) })
			}
		}
	case ev.Type == event.TypeSetuid, ev.Type == event.TypeSetresuid:
		l.addCap(lp, ev.TS, "SETUID")
	case ev.Type == event.TypeSetgid, ev.Type == event.TypeSetresgid:
		l.addCap(lp, ev.TS, "SETGID")
	case ev.Type == event.TypeChown, ev.Type == event.TypeFchown, ev.Type == event.TypeFchownat, ev.Type == event.TypeLchown:
		l.addCap(lp, ev.TS, "CHOWN")
	case ev.Type == event.TypeMount, ev.Type == event.TypeUmount, ev.Type == event.TypeUmount2:
		l.addCap(lp, ev.TS, "SYS_ADMIN")
	case ev.Type == event.TypePtrace:
		l.addCap(lp, ev.TS, "SYS_PTRACE")
	case ev.Type == event.TypeInitModule, ev.Type == event.TypeFinitModule:
		l.addCap(lp, ev.TS, "SYS_MODULE")
	}
}

// KernelUsage is what the sensor's syscall learner saw one container use.
type KernelUsage struct {
	ContainerID  string
	Syscalls     []string
	Capabilities []string // granted checks, names without CAP_
}

// AddKernelUsage adds the system calls and capabilities the kernel saw a
// container use to its workload's profile. It reports false when the
// container is not being learned (filtered out, or no event of it seen).
// Call it before Profiles.
func (l *Learner) AddKernelUsage(u KernelUsage) bool {
	lp := l.byCID[u.ContainerID]
	if lp == nil {
		return false
	}
	lp.p.Learned.Syscalls = "kernel"
	ts := lp.last
	for _, s := range u.Syscalls {
		l.add(lp, ts, "s:"+s, func() { lp.p.Syscalls = append(lp.p.Syscalls, s) })
	}
	for _, c := range u.Capabilities {
		l.addCap(lp, ts, c)
	}
	return true
}

func (l *Learner) addCap(lp *learning, ts int64, c string) {
	l.add(lp, ts, "c:"+c, func() { lp.p.Capabilities = append(lp.p.Capabilities, c) })
}

func (l *Learner) add(lp *learning, ts int64, key string, fn func()) {
	if _, ok := lp.sets[key]; ok {
		return
	}
	if len(lp.sets) >= MaxEntries*8 {
		lp.p.Learned.Truncated++
		return
	}
	lp.sets[key] = struct{}{}
	lp.lastNew = ts
	l.LastNew = ts
	fn()
}

// runtimeHelper reports whether p is the container runtime setting the
// container up inside its cgroup (argv "runc init" before it execs the
// entrypoint, conmon, crun): its events are not the workload's. A
// workload process that fakes that argv escapes learning and drift.
func runtimeHelper(p *event.Process) bool {
	if len(p.Args) >= 2 && p.Args[1] == "init" {
		switch path.Base(p.Args[0]) {
		case "runc", "crun", "youki":
			return true
		}
	}
	switch path.Base(p.ExePath) {
	case "runc", "crun", "conmon", "youki", "containerd-shim", "containerd-shim-runc-v2":
		return true
	}
	return false
}

func (l *Learner) workload(p *event.Process, st *event.State) *learning {
	if runtimeHelper(p) {
		return nil
	}
	cid := p.ContainerID
	if cid == "" || cid == "host" {
		if !l.opts.Host {
			return nil
		}
		cid = "host"
	}
	if lp, ok := l.byCID[cid]; ok {
		return lp
	}
	var id Identity
	if cid == "host" {
		id = Identity{Image: "host"}
		if l.opts.Filter != (Filter{}) {
			l.byCID[cid] = nil
			return nil
		}
	} else {
		c := st.Container(cid)
		if c == nil {
			return nil // metadata not known yet: retry on the next event
		}
		id = IdentityOf(c)
		if id.Key() == "" || !l.opts.Filter.match(c, id) {
			l.byCID[cid] = nil
			return nil
		}
	}
	key := id.Key()
	lp := l.byKey[key]
	if lp == nil {
		if len(l.byKey) >= MaxWorkloads {
			l.byCID[cid] = nil
			return nil
		}
		lp = &learning{p: Profile{APIVersion: APIVersion, Kind: Kind, Identity: id}, sets: map[string]struct{}{}}
		l.byKey[key] = lp
	}
	if len(l.byCID) < MaxWorkloads*16 {
		l.byCID[cid] = lp
	}
	return lp
}

func (l *Learner) learnExec(lp *learning, ev *event.Event, p *event.Process, st *event.State) {
	exe := p.ExePath
	if exe == "" {
		return
	}
	sum := ""
	if l.opts.HashExecutables {
		sum = l.hash(p, ev)
	}
	l.add(lp, ev.TS, "x:"+exe+"\x00"+sum, func() { lp.p.Executables = append(lp.p.Executables, Executable{Path: exe, SHA256: sum}) })
	if par := st.Parent(p); par != nil && par.ExePath != "" && par.ContainerID == p.ContainerID && !runtimeHelper(par) {
		e := ExecEdge{Parent: par.ExePath, Child: exe}
		l.add(lp, ev.TS, "e:"+e.key(), func() { lp.p.ExecEdges = append(lp.p.ExecEdges, e) })
	}
	l.add(lp, ev.TS, fmt.Sprintf("u:%d", p.UID), func() { lp.p.UIDs = append(lp.p.UIDs, p.UID) })
}

func (l *Learner) hash(p *event.Process, ev *event.Event) string {
	k := hashKey{ino: ev.ExeIno, mtime: ev.ExeMtime, path: p.ExePath}
	if s, ok := l.hashes[k]; ok {
		return s
	}
	s := hashExe(p.PID)
	if len(l.hashes) < MaxEntries*4 && ev.ExeIno != 0 {
		l.hashes[k] = s
	}
	return s
}

// hashExe is the sha256 of /proc/PID/exe, "" when it cannot be read
// (process gone, too large).
func hashExe(pid int32) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, MaxHashSize+1))
	if err != nil || n > MaxHashSize {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func ipOf(b [16]byte) (string, bool) {
	a := netip.AddrFrom16(b).Unmap()
	if !a.IsValid() || a.IsUnspecified() {
		return "", false
	}
	return a.String(), true
}

func protoOf(l4 uint8) string {
	switch l4 {
	case event.L4UDP:
		return "udp"
	case event.L4TCP:
		return "tcp"
	}
	return ""
}

func listenPort(f *event.FD) (Port, bool) {
	if f.Addr.Family != event.AFInet && f.Addr.Family != event.AFInet6 {
		return Port{}, false
	}
	proto := protoOf(f.Addr.L4)
	if proto == "" {
		proto = "tcp"
	}
	port := f.Addr.DstPort
	if port == 0 {
		port = f.Addr.SrcPort
	}
	if port == 0 {
		return Port{}, false
	}
	return Port{Proto: proto, Port: port}, true
}

func outboundPeer(ev *event.Event, st *event.State) (Peer, bool) {
	a := ev.Addr
	if f := st.CurrentFD(); f != nil && (f.Addr.Family == event.AFInet || f.Addr.Family == event.AFInet6) {
		a = f.Addr
	}
	if a.Family != event.AFInet && a.Family != event.AFInet6 {
		return Peer{}, false
	}
	ip, ok := ipOf(a.DstIP)
	if !ok || a.DstPort == 0 {
		return Peer{}, false
	}
	proto := protoOf(a.L4)
	if proto == "" {
		if ev.Type == event.TypeConnect {
			proto = "tcp"
		} else {
			proto = "udp"
		}
	}
	name, _ := st.HostName(a.DstIP)
	return Peer{IP: ip, Port: a.DstPort, Proto: proto, Name: name}, true
}

// syscallName maps a sensor event type to its syscall ("" for pseudo
// events).
func syscallName(t event.Type) string {
	switch t {
	case event.TypeUnknown, event.TypeProcExit, event.TypeContainerStart, event.TypeContainerStop,
		event.TypeSwitch, event.TypeDNS:
		return ""
	}
	return t.String()
}

// Stable reports whether no profile gained an entry during the last d
// before now (event ns).
func (l *Learner) Stable(now int64, d time.Duration) bool {
	return l.LastNew != 0 && now-l.LastNew >= int64(d)
}

// Profiles returns the learned profiles sorted by identity key.
func (l *Learner) Profiles() []*Profile {
	var out []*Profile
	for _, lp := range l.byKey {
		p := lp.p
		p.Files.Read = append([]string(nil), p.Files.Read...)
		p.Files.Write = append([]string(nil), p.Files.Write...)
		if lp.first != 0 {
			p.Learned.Start = time.Unix(0, lp.first).UTC().Format(time.RFC3339)
			p.Learned.End = time.Unix(0, lp.last).UTC().Format(time.RFC3339)
		}
		p.Normalize()
		out = append(out, &p)
	}
	sortProfiles(out)
	return out
}
