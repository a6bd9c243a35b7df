package event

import (
	"net/netip"
	"path"
)

// Scenario is a small builder of event sequences, for tests, fixtures and
// documentation: processes spawn, open files, connect, and so on, and the
// scenario records the events a sensor would deliver.
//
//	sc := event.NewScenario()
//	sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
//	sh.Open("/etc/shadow", event.ORdonly)
//	evs := sc.Events
type Scenario struct {
	Events []Event
	TS     int64
	Step   int64
	pid    int32
}

// NewScenario starts at a fixed time (2023-11-14T22:13:20Z) so outputs are
// reproducible.
func NewScenario() *Scenario {
	return &Scenario{TS: 1_700_000_000_000_000_000, Step: 1_000_000, pid: 100}
}

// Proc is a process in a scenario.
type Proc struct {
	PID         int32
	ContainerID string
	s           *Scenario
	spec        ExecSpec
	nextFD      int64
}

// ExecSpec describes an exec. Zero fields inherit from the parent.
type ExecSpec struct {
	Exe         string   // full path of the executable
	Args        []string // argv including argv[0]; default [basename(Exe)]
	Comm        string   // default basename(Exe), 15 bytes at most
	Cwd         string
	Env         []string
	UID, GID    *uint32
	LoginUID    *int64
	TTY         *uint32
	CapEff      *uint64
	CapPrm      *uint64
	ExeFlags    uint32
	ExeCtime    int64
	ContainerID *string
	Res         int64 // non-zero: a failed exec
}

// U32 and friends make optional fields easy to set.
func U32(v uint32) *uint32 { return &v }

// I64 returns a pointer to v.
func I64(v int64) *int64 { return &v }

// U64 returns a pointer to v.
func U64(v uint64) *uint64 { return &v }

// Str returns a pointer to v.
func Str(v string) *string { return &v }

// Sleep advances the clock.
func (s *Scenario) Sleep(ns int64) { s.TS += ns }

func (s *Scenario) emit(ev Event) *Event {
	s.TS += s.Step
	ev.TS = s.TS
	ev.Num = uint64(len(s.Events) + 1)
	if ev.TID == 0 {
		ev.TID = ev.PID
	}
	if ev.LoginUID == 0 {
		ev.LoginUID = -1
	}
	s.Events = append(s.Events, ev)
	return &s.Events[len(s.Events)-1]
}

// Init returns pid 1 (systemd on the host), emitting its exec.
func (s *Scenario) Init() *Proc {
	p := &Proc{PID: 1, s: s, nextFD: 3}
	p.exec(ExecSpec{Exe: "/usr/lib/systemd/systemd", Args: []string{"/sbin/init"}, Comm: "systemd", Cwd: "/",
		UID: U32(0), GID: U32(0), CapEff: U64(1<<41 - 1), CapPrm: U64(1<<41 - 1)})
	return p
}

// Container emits a container start event and returns its metadata for
// further edits (made before the next event is applied).
func (s *Scenario) Container(c Container) *Container {
	if c.StartTS == 0 {
		c.StartTS = s.TS
	}
	cc := c
	s.emit(Event{Type: TypeContainerStart, Container: &cc, ContainerID: c.ID})
	return &cc
}

// DNS records a name for an address.
func (s *Scenario) DNS(name, ip string) {
	ev := Event{Type: TypeDNS, Path: name}
	ev.Addr.DstIP = IP(ip)
	s.emit(ev)
}

// Spawn clones p and execs spec in the child.
func (p *Proc) Spawn(spec ExecSpec) *Proc {
	p.s.pid++
	child := &Proc{PID: p.s.pid, s: p.s, spec: p.spec, ContainerID: p.ContainerID, nextFD: p.nextFD}
	p.s.emit(Event{Type: TypeClone, PID: p.PID, Res: int64(child.PID), ContainerID: p.ContainerID})
	if spec.ContainerID != nil {
		child.ContainerID = *spec.ContainerID
	}
	child.exec(spec)
	return child
}

// Exec replaces p's image.
func (p *Proc) Exec(spec ExecSpec) *Event { return p.exec(spec) }

func (p *Proc) exec(spec ExecSpec) *Event {
	if spec.ContainerID != nil {
		p.ContainerID = *spec.ContainerID
	}
	prev := p.spec
	if spec.Args == nil {
		spec.Args = []string{path.Base(spec.Exe)}
	}
	if spec.Comm == "" {
		spec.Comm = path.Base(spec.Exe)
		if len(spec.Comm) > 15 {
			spec.Comm = spec.Comm[:15]
		}
	}
	if spec.Cwd == "" {
		spec.Cwd = prev.Cwd
	}
	if spec.Env == nil {
		spec.Env = prev.Env
	}
	if spec.UID == nil {
		spec.UID = prev.UID
	}
	if spec.GID == nil {
		spec.GID = prev.GID
	}
	if spec.LoginUID == nil {
		spec.LoginUID = prev.LoginUID
	}
	if spec.TTY == nil {
		spec.TTY = prev.TTY
	}
	if spec.CapEff == nil {
		spec.CapEff = prev.CapEff
	}
	if spec.CapPrm == nil {
		spec.CapPrm = prev.CapPrm
	}
	ev := Event{Type: TypeExecve, PID: p.PID, Res: spec.Res, Path: spec.Exe, Args: spec.Args, Comm: spec.Comm,
		Cwd: spec.Cwd, Env: spec.Env, ExeFlags: spec.ExeFlags, ExeCtime: spec.ExeCtime, ContainerID: p.ContainerID,
		LoginUID: -1, VPID: p.PID, VTID: p.PID, VPGID: p.PID, PGID: p.PID, SID: p.PID}
	if spec.UID != nil {
		ev.UID, ev.EUID = *spec.UID, *spec.UID
	}
	if spec.GID != nil {
		ev.GID, ev.EGID = *spec.GID, *spec.GID
	}
	if spec.LoginUID != nil {
		ev.LoginUID = *spec.LoginUID
	}
	if spec.TTY != nil {
		ev.TTY = *spec.TTY
	}
	if spec.CapEff != nil {
		ev.CapEff = *spec.CapEff
	}
	if spec.CapPrm != nil {
		ev.CapPrm = *spec.CapPrm
	}
	if spec.Res == 0 {
		p.spec = spec
	}
	return p.s.emit(ev)
}

// Open opens a file and returns the new fd.
func (p *Proc) Open(name string, flags uint32) int64 {
	fd := p.nextFD
	p.nextFD++
	p.s.emit(Event{Type: TypeOpenat, PID: p.PID, FD: AtFDCWD, Res: fd, Path: name, Flags: flags, Mode: 0o644, ContainerID: p.ContainerID})
	return fd
}

// OpenFail emits a failed open (errno positive, e.g. 2 for ENOENT).
func (p *Proc) OpenFail(name string, flags uint32, errno int64) {
	p.s.emit(Event{Type: TypeOpenat, PID: p.PID, FD: AtFDCWD, Res: -errno, Path: name, Flags: flags, ContainerID: p.ContainerID})
}

// Read reads n bytes from fd.
func (p *Proc) Read(fd int64, data []byte) {
	p.s.emit(Event{Type: TypeRead, PID: p.PID, FD: fd, Res: int64(len(data)), Data: data, Arg: int64(len(data)), ContainerID: p.ContainerID})
}

// Write writes data to fd.
func (p *Proc) Write(fd int64, data []byte) {
	p.s.emit(Event{Type: TypeWrite, PID: p.PID, FD: fd, Res: int64(len(data)), Data: data, Arg: int64(len(data)), ContainerID: p.ContainerID})
}

// Close closes fd.
func (p *Proc) Close(fd int64) {
	p.s.emit(Event{Type: TypeClose, PID: p.PID, FD: fd, ContainerID: p.ContainerID})
}

// Socket creates a socket (domain AF_*, typ 1 stream / 2 dgram) and returns its fd.
func (p *Proc) Socket(domain, typ int64) int64 {
	fd := p.nextFD
	p.nextFD++
	p.s.emit(Event{Type: TypeSocket, PID: p.PID, Res: fd, Arg: domain, Arg2: typ, ContainerID: p.ContainerID})
	return fd
}

// IP parses an address into the 16-byte form.
func IP(s string) [16]byte {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return [16]byte{}
	}
	return a.As16()
}

// Connect connects fd from srcIP:srcPort to dstIP:dstPort.
func (p *Proc) Connect(fd int64, srcIP string, srcPort uint16, dstIP string, dstPort uint16) {
	fam := uint16(AFInet)
	if a, err := netip.ParseAddr(dstIP); err == nil && a.Is6() && !a.Is4In6() {
		fam = AFInet6
	}
	p.s.emit(Event{Type: TypeConnect, PID: p.PID, FD: fd, Res: 0, ContainerID: p.ContainerID,
		Addr: Addr{Family: fam, SrcIP: IP(srcIP), SrcPort: srcPort, DstIP: IP(dstIP), DstPort: dstPort}})
}

// Dup2 duplicates oldfd onto newfd.
func (p *Proc) Dup2(oldfd, newfd int64) {
	p.s.emit(Event{Type: TypeDup2, PID: p.PID, FD: oldfd, Res: newfd, Arg: newfd, ContainerID: p.ContainerID})
}

// Syscall emits a generic event for p; mod fills type-specific fields.
func (p *Proc) Syscall(t Type, mod func(ev *Event)) *Event {
	ev := Event{Type: t, PID: p.PID, ContainerID: p.ContainerID}
	if mod != nil {
		mod(&ev)
	}
	return p.s.emit(ev)
}

// Exit ends p.
func (p *Proc) Exit() { p.s.emit(Event{Type: TypeProcExit, PID: p.PID, ContainerID: p.ContainerID}) }
