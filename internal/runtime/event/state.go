package event

import (
	"path"
	"strings"
)

// FDType is the kind of object a file descriptor refers to.
type FDType uint8

// The fd types, with Falco's fd.type names and fd.typechar letters.
const (
	FDUnknown FDType = iota
	FDFile
	FDDirectory
	FDIPv4
	FDIPv6
	FDUnix
	FDPipe
	FDEvent
	FDSignalfd
	FDEventpoll
	FDInotify
	FDTimerfd
	FDNetlink
	FDBpf
	FDUserfaultfd
	FDIOUring
	FDMemfd
	FDPidfd
	FDPacket
)

var fdTypeNames = [...]string{"<NA>", "file", "directory", "ipv4", "ipv6", "unix", "pipe", "event", "signalfd", "eventpoll", "inotify", "timerfd", "netlink", "bpf", "userfaultfd", "io_uring", "memfd", "pidfd", "packet"}
var fdTypeChars = [...]string{"o", "f", "d", "4", "6", "u", "p", "e", "s", "l", "i", "t", "n", "b", "u", "r", "m", "P", "k"}

// String returns Falco's fd.type name.
func (t FDType) String() string {
	if int(t) < len(fdTypeNames) {
		return fdTypeNames[t]
	}
	return "<NA>"
}

// Char returns Falco's fd.typechar letter.
func (t FDType) Char() string {
	if int(t) < len(fdTypeChars) {
		return fdTypeChars[t]
	}
	return "o"
}

// IsSocket reports whether the fd is an inet socket.
func (t FDType) IsSocket() bool { return t == FDIPv4 || t == FDIPv6 }

// FD is one entry of a process's file descriptor table.
type FD struct {
	Num     int32
	Type    FDType
	Used    bool
	Flags   uint32 // open flags
	Name    string // resolved path (files, unix sockets, memfd:NAME...)
	NameRaw string // path as passed to the syscall
	Addr    Addr   // socket tuple: Src is the client, Dst the server
	// Role: 'c' when this end is the client (connect), 's' when server
	// (accept/listen/bind), 0 when unknown.
	Role        byte
	Connected   bool
	NameChanged bool // last sendto/sendmsg used a different address
}

// User is a passwd entry.
type User struct {
	Name  string
	Home  string
	Shell string
}

// Process is one process (thread group) in the state table.
type Process struct {
	PID, PPID, PGID, SID, VPID, VTID, VPGID int32
	TID                                     int32 // last thread seen
	Comm                                    string
	ExePath                                 string // full path of the executable
	Args                                    []string
	Env                                     []string
	Cwd                                     string
	UID, GID, EUID, EGID                    uint32
	LoginUID                                int64
	CapEff, CapPrm, CapInh                  uint64
	TTY                                     uint32
	ExeFlags                                uint32
	ExeIno                                  uint64
	ExeCtime, ExeMtime                      int64
	StartTS                                 int64 // clone time (unix ns)
	ExecTS                                  int64
	ContainerID                             string
	Exited                                  bool

	children int32
	fds      []FD
	seq      uint64
}

// Exe returns argv[0] (Falco's proc.exe).
func (p *Process) Exe() string {
	if len(p.Args) > 0 {
		return p.Args[0]
	}
	return p.Comm
}

// FD returns the fd table entry for num, or nil.
func (p *Process) FD(num int64) *FD {
	if num < 0 || num >= int64(len(p.fds)) || !p.fds[num].Used {
		return nil
	}
	return &p.fds[num]
}

// FDs calls fn for each open fd.
func (p *Process) FDs(fn func(*FD)) {
	for i := range p.fds {
		if p.fds[i].Used {
			fn(&p.fds[i])
		}
	}
}

// Options bounds the state engine.
type Options struct {
	MaxProcesses     int // default 65536
	MaxFDsPerProcess int // highest fd number tracked + 1; default 4096
	MaxContainers    int // default 8192
	MaxUsers         int // default 65536
}

// Stats counts what the state engine did, including what it evicted or
// dropped to stay within its caps.
type Stats struct {
	Events             uint64
	Processes          int
	Containers         int
	ProcessesCreated   uint64
	ProcessesRemoved   uint64
	ProcessEvictions   uint64
	FDEvictions        uint64 // fds not tracked because their number exceeds the cap
	ContainerEvictions uint64
	UnknownProcesses   uint64 // events from a pid not in the table (placeholder created)
}

// State follows processes, fds, users, groups and containers. Apply it to
// every event in order before evaluating rules on that event.
type State struct {
	opts       Options
	procs      map[int32]*Process
	free       []*Process
	queue      []qent
	seq        uint64
	containers map[string]*Container
	corder     []string
	users      map[uint32]User
	groups     map[uint32]string
	hostnames  map[[16]byte]string
	pending    int32 // pid whose exit is applied at the next event
	stats      Stats

	// current event context, set by Apply
	cur     *Process
	curFD   *FD
	closed  FD
	failed  FD
	dupFrom FD

	// Hostname is reported in alerts (evt.hostname).
	Hostname string
	// Now is the timestamp of the last applied event.
	Now int64
}

type qent struct {
	pid int32
	seq uint64
}

// NewState returns an empty state.
func NewState(opts Options) *State {
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = 65536
	}
	if opts.MaxFDsPerProcess <= 0 {
		opts.MaxFDsPerProcess = 4096
	}
	if opts.MaxContainers <= 0 {
		opts.MaxContainers = 8192
	}
	if opts.MaxUsers <= 0 {
		opts.MaxUsers = 65536
	}
	s := &State{
		opts:       opts,
		procs:      make(map[int32]*Process, 1024),
		containers: make(map[string]*Container),
		users:      make(map[uint32]User),
		groups:     make(map[uint32]string),
		hostnames:  make(map[[16]byte]string),
	}
	s.users[0] = User{Name: "root", Home: "/root", Shell: "/bin/sh"}
	s.groups[0] = "root"
	return s
}

// HostName returns the DNS name recorded for an address (16-byte form).
func (s *State) HostName(ip [16]byte) (string, bool) {
	n, ok := s.hostnames[ip]
	return n, ok
}

// AddHostName records a resolved name for an address (bounded by
// MaxContainers*8 entries; the oldest are not tracked once full).
func (s *State) AddHostName(ip [16]byte, name string) {
	if _, ok := s.hostnames[ip]; !ok && len(s.hostnames) >= s.opts.MaxContainers*8 {
		return
	}
	s.hostnames[ip] = name
}

// Stats returns counters.
func (s *State) Stats() Stats {
	st := s.stats
	st.Processes = len(s.procs)
	st.Containers = len(s.containers)
	return st
}

// Process returns the process with the given pid, or nil.
func (s *State) Process(pid int32) *Process { return s.procs[pid] }

// Parent returns p's parent, or nil.
func (s *State) Parent(p *Process) *Process {
	if p == nil || p.PPID == 0 || p.PPID == p.PID {
		return nil
	}
	return s.procs[p.PPID]
}

// Ancestor returns p's n-th ancestor (0 is p itself), or nil.
func (s *State) Ancestor(p *Process, n int) *Process {
	for i := 0; i < n && p != nil; i++ {
		p = s.Parent(p)
	}
	return p
}

// Container returns the metadata of a container, or nil.
func (s *State) Container(id string) *Container {
	if id == "" || id == "host" {
		return nil
	}
	if c, ok := s.containers[id]; ok {
		return c
	}
	return nil
}

// User returns the passwd entry of uid.
func (s *State) User(uid uint32) (User, bool) {
	u, ok := s.users[uid]
	return u, ok
}

// Group returns the name of gid.
func (s *State) Group(gid uint32) (string, bool) {
	g, ok := s.groups[gid]
	return g, ok
}

// AddUser records a passwd entry (bounded by MaxUsers).
func (s *State) AddUser(uid uint32, u User) {
	if _, ok := s.users[uid]; !ok && len(s.users) >= s.opts.MaxUsers {
		return
	}
	s.users[uid] = u
}

// AddGroup records a group entry (bounded by MaxUsers).
func (s *State) AddGroup(gid uint32, name string) {
	if _, ok := s.groups[gid]; !ok && len(s.groups) >= s.opts.MaxUsers {
		return
	}
	s.groups[gid] = name
}

// Processes calls fn for every process in the table.
func (s *State) Processes(fn func(*Process)) {
	for _, p := range s.procs {
		fn(p)
	}
}

// Current returns the process of the last applied event.
func (s *State) Current() *Process { return s.cur }

// CurrentFD returns the fd the last applied event refers to (the new fd
// for open/socket/accept/memfd_create, the fd argument for read, write,
// connect, close, dup...), or nil.
func (s *State) CurrentFD() *FD { return s.curFD }

func (s *State) newProcess(pid int32) *Process {
	if len(s.procs) >= s.opts.MaxProcesses {
		s.evict()
	}
	var p *Process
	if n := len(s.free); n > 0 {
		p = s.free[n-1]
		s.free = s.free[:n-1]
		fds, args, env := p.fds[:0], p.Args[:0], p.Env[:0]
		*p = Process{fds: fds, Args: args, Env: env}
	} else {
		p = &Process{}
	}
	p.PID = pid
	p.LoginUID = -1
	s.seq++
	p.seq = s.seq
	s.procs[pid] = p
	s.queue = append(s.queue, qent{pid, p.seq})
	if len(s.queue) > 4*s.opts.MaxProcesses+1024 {
		s.compactQueue()
	}
	s.stats.ProcessesCreated++
	return p
}

func (s *State) compactQueue() {
	q := s.queue[:0]
	for _, e := range s.queue {
		if p, ok := s.procs[e.pid]; ok && p.seq == e.seq {
			q = append(q, e)
		}
	}
	s.queue = q
}

// evict removes the oldest process still in the table.
func (s *State) evict() {
	for len(s.queue) > 0 {
		e := s.queue[0]
		s.queue = s.queue[1:]
		if p, ok := s.procs[e.pid]; ok && p.seq == e.seq && p != s.cur {
			s.drop(p)
			s.stats.ProcessEvictions++
			return
		}
	}
}

func (s *State) drop(p *Process) {
	delete(s.procs, p.PID)
	if parent := s.procs[p.PPID]; parent != nil && parent != p {
		parent.children--
		if parent.Exited && parent.children <= 0 {
			s.drop(parent)
			s.stats.ProcessesRemoved++
		}
	}
	for i := range p.fds {
		p.fds[i] = FD{}
	}
	if len(s.free) < 4096 {
		s.free = append(s.free, p)
	}
}

func (s *State) remove(pid int32) {
	p := s.procs[pid]
	if p == nil {
		return
	}
	p.Exited = true
	p.fds = p.fds[:0]
	if p.children > 0 {
		return // kept as a zombie for the ancestry of its children
	}
	s.drop(p)
	s.stats.ProcessesRemoved++
}

// lookup returns the process of ev, creating a placeholder when unknown.
func (s *State) lookup(ev *Event) *Process {
	if p := s.procs[ev.PID]; p != nil {
		return p
	}
	s.stats.UnknownProcesses++
	p := s.newProcess(ev.PID)
	p.StartTS = ev.TS
	p.Comm = ev.Comm
	p.ContainerID = ev.ContainerID
	if ev.PPID != 0 {
		p.PPID = ev.PPID
		if parent := s.procs[ev.PPID]; parent != nil {
			parent.children++
		}
	}
	return p
}

func (p *Process) setFD(num int64, max int) *FD {
	if num < 0 || num >= int64(max) {
		return nil
	}
	n := int(num)
	if n >= len(p.fds) {
		if n < cap(p.fds) {
			old := len(p.fds)
			p.fds = p.fds[:n+1]
			clear(p.fds[old:])
		} else {
			newCap := 2 * cap(p.fds)
			if newCap < 16 {
				newCap = 16
			}
			for newCap <= n {
				newCap *= 2
			}
			if newCap > max {
				newCap = max
			}
			nf := make([]FD, n+1, newCap)
			copy(nf, p.fds)
			p.fds = nf
		}
	}
	f := &p.fds[n]
	*f = FD{Num: int32(n), Used: true}
	return f
}

func (p *Process) closeFD(num int64) (FD, bool) {
	if num < 0 || num >= int64(len(p.fds)) || !p.fds[num].Used {
		return FD{}, false
	}
	f := p.fds[num]
	p.fds[num] = FD{}
	for len(p.fds) > 0 && !p.fds[len(p.fds)-1].Used {
		p.fds = p.fds[:len(p.fds)-1]
	}
	return f, true
}

// AT_FDCWD as carried in Event.FD for *at syscalls.
const AtFDCWD = -100

// resolve makes a path absolute against dirfd (for *at calls) or the cwd.
func (s *State) resolve(p *Process, dirfd int64, name string, at bool) string {
	if name == "" {
		return ""
	}
	if name[0] == '/' {
		if strings.Contains(name, "/.") || strings.Contains(name, "//") || (len(name) > 1 && name[len(name)-1] == '/') {
			return path.Clean(name)
		}
		return name
	}
	base := p.Cwd
	if at && dirfd != AtFDCWD {
		if f := p.FD(dirfd); f != nil && f.Name != "" {
			base = f.Name
		}
	}
	if base == "" {
		base = "/"
	}
	return path.Join(base, name)
}

// Apply updates the state with ev and sets the current process and fd for
// rule evaluation. Removal of a process on procexit and of an fd on close
// is visible to rules on that same event (they still see the process and
// fd), and takes effect at the next Apply.
func (s *State) Apply(ev *Event) {
	s.stats.Events++
	if s.pending != 0 {
		s.remove(s.pending)
		s.pending = 0
	}
	s.Now = ev.TS
	s.curFD = nil
	if ev.Type == TypeDNS {
		if ev.Path != "" {
			s.AddHostName(ev.Addr.DstIP, ev.Path)
		}
		s.cur = s.procs[ev.PID]
		return
	}
	if ev.Type == TypeContainerStart || ev.Type == TypeContainerStop {
		s.applyContainer(ev)
		s.cur = s.procs[ev.PID]
		return
	}
	p := s.lookup(ev)
	s.cur = p
	p.TID = ev.TID
	max := s.opts.MaxFDsPerProcess
	t := ev.Type
	switch {
	case t.IsExec():
		if ev.Res != 0 {
			return
		}
		s.applyExec(p, ev)
	case t.IsClone():
		if ev.Res <= 0 || ev.Flags&CloneThread != 0 {
			return
		}
		s.applyClone(p, ev)
	case t == TypeProcExit:
		s.pending = p.PID
	case t.IsOpen():
		name := s.resolve(p, ev.FD, ev.Path, t != TypeOpen && t != TypeCreat)
		ft := FDFile
		if ev.Flags&ODirectory != 0 && ev.Flags&OTmpfile != OTmpfile {
			ft = FDDirectory
		}
		flags := ev.Flags
		if t == TypeCreat {
			flags |= OCreat | OWronly | OTrunc
		}
		if ev.Res >= 0 {
			if f := p.setFD(ev.Res, max); f != nil {
				f.Type, f.Flags, f.Name, f.NameRaw = ft, flags, name, ev.Path
				s.curFD = f
				return
			}
			s.stats.FDEvictions++
		}
		s.failed = FD{Num: -1, Used: true, Type: ft, Flags: flags, Name: name, NameRaw: ev.Path}
		if ev.Res >= 0 {
			s.failed.Num = int32(min(ev.Res, 1<<30))
		}
		s.curFD = &s.failed
	case t == TypeClose:
		if f, ok := p.closeFD(ev.FD); ok {
			s.closed = f
			s.curFD = &s.closed
		}
	case t == TypeSocket:
		if ev.Res >= 0 {
			if f := p.setFD(ev.Res, max); f != nil {
				f.Type = socketType(ev.Arg)
				f.Addr.Family = uint16(ev.Arg)
				f.Addr.L4 = l4FromSocket(ev.Arg2, ev.Arg3)
				s.curFD = f
			} else {
				s.stats.FDEvictions++
			}
		}
	case t == TypeConnect:
		f := p.FD(ev.FD)
		if f == nil {
			f = p.setFD(ev.FD, max)
			if f != nil {
				f.Type = socketType(int64(ev.Addr.Family))
			}
		}
		if f != nil {
			l4 := f.Addr.L4
			if ev.Addr.L4 != 0 {
				l4 = ev.Addr.L4
			}
			if ev.Addr.Family == AFUnix {
				f.Type = FDUnix
				f.Name = ev.Path
			}
			f.Addr = ev.Addr
			f.Addr.L4 = l4
			if f.Addr.Family == 0 {
				f.Addr.Family = uint16(familyOf(f.Type))
			}
			f.Role = 'c'
			f.Connected = ev.Res == 0 || ev.Res == -115 // EINPROGRESS
			s.curFD = f
		}
	case t == TypeAccept || t == TypeAccept4:
		if ev.Res >= 0 {
			lf := p.FD(ev.FD)
			if f := p.setFD(ev.Res, max); f != nil {
				f.Type = socketType(int64(ev.Addr.Family))
				f.Addr = ev.Addr
				if lf != nil && f.Addr.L4 == 0 {
					f.Addr.L4 = lf.Addr.L4
				}
				if f.Addr.L4 == 0 {
					f.Addr.L4 = L4TCP
				}
				if ev.Addr.Family == AFUnix {
					f.Name = ev.Path
				}
				f.Role = 's'
				f.Connected = true
				s.curFD = f
			} else {
				s.stats.FDEvictions++
			}
		}
	case t == TypeBind || t == TypeListen:
		if f := p.FD(ev.FD); f != nil {
			if t == TypeBind && ev.Addr.Family != 0 {
				l4 := f.Addr.L4
				f.Addr = ev.Addr
				if f.Addr.L4 == 0 {
					f.Addr.L4 = l4
				}
				if ev.Addr.Family == AFUnix {
					f.Name = ev.Path
				}
			}
			f.Role = 's'
			s.curFD = f
		}
	case t == TypeSendto || t == TypeSendmsg || t == TypeRecvfrom || t == TypeRecvmsg:
		if f := p.FD(ev.FD); f != nil {
			f.NameChanged = false
			if ev.Addr.Family != 0 && !f.Connected {
				if f.Addr.DstIP != ev.Addr.DstIP || f.Addr.DstPort != ev.Addr.DstPort || f.Addr.SrcIP != ev.Addr.SrcIP || f.Addr.SrcPort != ev.Addr.SrcPort {
					f.NameChanged = true
				}
				l4 := f.Addr.L4
				f.Addr = ev.Addr
				if f.Addr.L4 == 0 {
					f.Addr.L4 = l4
				}
				if t == TypeSendto || t == TypeSendmsg {
					f.Role = 'c'
				} else {
					f.Role = 's'
				}
			}
			s.curFD = f
		}
	case t.IsDup():
		if p.FD(ev.FD) == nil && ev.Res >= 0 && ev.Res != ev.FD {
			// The new fd now refers to something this table does not
			// know (an fd opened before the sensor, or an open the
			// kernel filtered): what it held before is gone.
			p.closeFD(ev.Res)
		}
		if old := p.FD(ev.FD); old != nil {
			s.dupFrom = *old
			s.curFD = &s.dupFrom
			if ev.Res >= 0 && ev.Res != ev.FD {
				if f := p.setFD(ev.Res, max); f != nil {
					*f = s.dupFrom
					f.Num = int32(ev.Res)
					f.Flags &^= OCloexec
					if t == TypeDup3 && ev.Flags&OCloexec != 0 {
						f.Flags |= OCloexec
					}
				}
			}
		}
	case t == TypeMemfdCreate:
		if ev.Res >= 0 {
			if f := p.setFD(ev.Res, max); f != nil {
				f.Type = FDMemfd
				f.Name = "memfd:" + ev.Path
				f.NameRaw = ev.Path
				s.curFD = f
			}
		}
	case t == TypeUserfaultfd || t == TypeBpf || t == TypeEventfd || t == TypeSignalfd || t == TypeInotifyInit ||
		t == TypeTimerfdCreate || t == TypeEpollCreate || t == TypeIoUringSetup || t == TypePidfdOpen:
		if ev.Res >= 0 && (t != TypeBpf || bpfCreatesFD(ev.Arg)) {
			if f := p.setFD(ev.Res, max); f != nil {
				f.Type = anonType(t)
				s.curFD = f
			}
		}
	case t == TypePipe || t == TypePipe2:
		if ev.Res == 0 {
			for _, n := range [...]int64{ev.Arg, ev.Arg2} {
				if f := p.setFD(n, max); f != nil {
					f.Type = FDPipe
				}
			}
		}
	case t == TypeSetuid || t == TypeSetresuid:
		if ev.Res == 0 {
			uid := ev.Arg
			if t == TypeSetresuid {
				uid = ev.Arg2
			}
			if uid >= 0 {
				p.EUID = uint32(uid)
				p.UID = uint32(uid)
			}
		}
		s.curFD = p.FD(ev.FD)
	case t == TypeSetgid || t == TypeSetresgid:
		if ev.Res == 0 {
			gid := ev.Arg
			if t == TypeSetresgid {
				gid = ev.Arg2
			}
			if gid >= 0 {
				p.EGID = uint32(gid)
				p.GID = uint32(gid)
			}
		}
	case t == TypeCapset:
		if ev.Res == 0 {
			p.CapEff, p.CapPrm, p.CapInh = ev.CapEff, ev.CapPrm, ev.CapInh
		}
	case t == TypeChdir:
		if ev.Res == 0 {
			p.Cwd = s.resolve(p, AtFDCWD, ev.Path, false)
		}
	case t == TypeFchdir:
		if f := p.FD(ev.FD); f != nil && ev.Res == 0 {
			p.Cwd = f.Name
		}
	default:
		// read, write, fchmod, ftruncate, ioctl...: the fd argument.
		if ev.FD >= 0 {
			s.curFD = p.FD(ev.FD)
		}
	}
}

func (s *State) applyExec(p *Process, ev *Event) {
	p.ExePath = ev.Path
	p.Comm = ev.Comm
	if p.Comm == "" {
		p.Comm = path.Base(ev.Path)
		if len(p.Comm) > 15 {
			p.Comm = p.Comm[:15]
		}
	}
	p.Args = append(p.Args[:0], ev.Args...)
	p.Env = append(p.Env[:0], ev.Env...)
	if ev.Cwd != "" {
		p.Cwd = ev.Cwd
	}
	p.UID, p.GID, p.EUID, p.EGID = ev.UID, ev.GID, ev.EUID, ev.EGID
	p.LoginUID = ev.LoginUID
	p.CapEff, p.CapPrm, p.CapInh = ev.CapEff, ev.CapPrm, ev.CapInh
	p.TTY = ev.TTY
	if ev.PPID != 0 && ev.PPID != p.PPID && ev.PPID != p.PID {
		if old := s.procs[p.PPID]; old != nil {
			old.children--
		}
		p.PPID = ev.PPID
		if np := s.procs[p.PPID]; np != nil {
			np.children++
		}
	}
	if ev.PGID != 0 {
		p.PGID = ev.PGID
	}
	if ev.SID != 0 {
		p.SID = ev.SID
	}
	if ev.VPID != 0 {
		p.VPID, p.VTID, p.VPGID = ev.VPID, ev.VTID, ev.VPGID
	}
	p.ExeFlags, p.ExeIno, p.ExeCtime, p.ExeMtime = ev.ExeFlags, ev.ExeIno, ev.ExeCtime, ev.ExeMtime
	if ev.ContainerID != "" {
		p.ContainerID = ev.ContainerID
	}
	p.ExecTS = ev.TS
	if p.StartTS == 0 {
		p.StartTS = ev.TS
	}
	// close-on-exec
	for i := range p.fds {
		if p.fds[i].Used && p.fds[i].Flags&OCloexec != 0 {
			p.fds[i] = FD{}
		}
	}
}

func (s *State) applyClone(parent *Process, ev *Event) {
	pid := int32(ev.Res)
	if old := s.procs[pid]; old != nil {
		s.drop(old) // pid reuse
	}
	c := s.newProcess(pid)
	fds, args, env, seq := c.fds, c.Args, c.Env, c.seq
	*c = *parent
	c.fds = append(fds[:0], parent.fds...)
	c.Args = append(args[:0], parent.Args...)
	c.Env = append(env[:0], parent.Env...)
	c.seq = seq
	c.PID, c.TID, c.PPID = pid, pid, parent.PID
	c.children = 0
	c.Exited = false
	c.StartTS = ev.TS
	c.ExecTS = 0
	if ev.VPID != 0 {
		c.VPID = ev.VPID
	}
	if ev.ContainerID != "" {
		c.ContainerID = ev.ContainerID
	}
	parent.children++
}

func (s *State) applyContainer(ev *Event) {
	c := ev.Container
	if ev.Type == TypeContainerStop {
		id := ev.ContainerID
		if c != nil && c.ID != "" {
			id = c.ID
		}
		delete(s.containers, id)
		if len(id) > 12 {
			delete(s.containers, id[:12])
		}
		return
	}
	if c == nil || c.ID == "" {
		return
	}
	if _, ok := s.containers[c.ID]; !ok {
		for len(s.containers) >= s.opts.MaxContainers && len(s.corder) > 0 {
			old := s.corder[0]
			s.corder = s.corder[1:]
			if oc, ok := s.containers[old]; ok {
				delete(s.containers, oc.ID)
				if len(oc.ID) > 12 {
					delete(s.containers, oc.ID[:12])
				}
				s.stats.ContainerEvictions++
			}
		}
		s.corder = append(s.corder, c.ID)
	}
	s.containers[c.ID] = c
	if len(c.ID) > 12 {
		s.containers[c.ID[:12]] = c // sensors usually report the short id
	}
}

// AddContainer registers container metadata (as a container start event would).
func (s *State) AddContainer(c *Container) {
	s.applyContainer(&Event{Type: TypeContainerStart, Container: c})
}

func socketType(domain int64) FDType {
	switch domain {
	case AFInet:
		return FDIPv4
	case AFInet6:
		return FDIPv6
	case AFUnix:
		return FDUnix
	case AFNetlink:
		return FDNetlink
	case AFPacket:
		return FDPacket
	}
	return FDUnknown
}

func familyOf(t FDType) int {
	switch t {
	case FDIPv4:
		return AFInet
	case FDIPv6:
		return AFInet6
	case FDUnix:
		return AFUnix
	}
	return 0
}

func l4FromSocket(typ, proto int64) uint8 {
	switch proto {
	case L4TCP, L4UDP, L4ICMP:
		return uint8(proto)
	}
	switch typ & 0xf {
	case 1: // SOCK_STREAM
		return L4TCP
	case 2: // SOCK_DGRAM
		return L4UDP
	case 3: // SOCK_RAW
		return L4Raw
	}
	return L4Unknown
}

func bpfCreatesFD(cmd int64) bool {
	switch cmd {
	case 0, 5, 14, 18: // MAP_CREATE, PROG_LOAD, OBJ_GET, RAW_TRACEPOINT_OPEN...
		return true
	}
	return cmd >= 13 && cmd <= 20
}

func anonType(t Type) FDType {
	switch t {
	case TypeUserfaultfd:
		return FDUserfaultfd
	case TypeBpf:
		return FDBpf
	case TypeEventfd:
		return FDEvent
	case TypeSignalfd:
		return FDSignalfd
	case TypeInotifyInit:
		return FDInotify
	case TypeTimerfdCreate:
		return FDTimerfd
	case TypeEpollCreate:
		return FDEventpoll
	case TypeIoUringSetup:
		return FDIOUring
	case TypePidfdOpen:
		return FDPidfd
	}
	return FDUnknown
}
