package event

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// maxProcFile bounds every file read from /proc or /etc.
const maxProcFile = 1 << 20

// SnapshotOptions controls LoadProc.
type SnapshotOptions struct {
	// ProcRoot is the proc mount (default "/proc").
	ProcRoot string
	// EtcRoot is where passwd and group are read (default "/etc"); "-"
	// skips users and groups.
	EtcRoot string
	// ClockTicks is USER_HZ (default 100).
	ClockTicks int64
	// MaxProcesses stops the walk after this many processes (default: the
	// state's cap).
	MaxProcesses int
}

// SnapshotStats reports what LoadProc read.
type SnapshotStats struct {
	Processes int
	FDs       int
	Skipped   int // processes that vanished or could not be read
	Users     int
	Groups    int
}

var containerIDRe = regexp.MustCompile(`([0-9a-f]{64})`)

// LoadProc fills the state from a /proc snapshot: processes (ancestry,
// command line, credentials, capabilities, cwd, exe, tty, container id from
// the cgroup) and their fds, plus users and groups from /etc. Processes
// that disappear during the walk are skipped and counted. Every file read
// is bounded.
func (s *State) LoadProc(opts SnapshotOptions) (SnapshotStats, error) {
	var st SnapshotStats
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.EtcRoot == "" {
		opts.EtcRoot = "/etc"
	}
	if opts.ClockTicks <= 0 {
		opts.ClockTicks = 100
	}
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = s.opts.MaxProcesses
	}
	if opts.EtcRoot != "-" {
		if b, err := readBounded(filepath.Join(opts.EtcRoot, "passwd")); err == nil {
			st.Users = s.LoadPasswd(bytes.NewReader(b))
		}
		if b, err := readBounded(filepath.Join(opts.EtcRoot, "group")); err == nil {
			st.Groups = s.LoadGroup(bytes.NewReader(b))
		}
	}
	var btime int64
	if b, err := readBounded(filepath.Join(opts.ProcRoot, "stat")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				btime, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
	}
	ents, err := os.ReadDir(opts.ProcRoot)
	if err != nil {
		return st, fmt.Errorf("reading %s: %w", opts.ProcRoot, err)
	}
	type pp struct{ pid, ppid int32 }
	var links []pp
	for _, e := range ents {
		pid64, err := strconv.ParseInt(e.Name(), 10, 32)
		if err != nil || pid64 <= 0 {
			continue
		}
		if st.Processes >= opts.MaxProcesses {
			break
		}
		pid := int32(pid64)
		dir := filepath.Join(opts.ProcRoot, e.Name())
		p, nfd, err := s.loadProcess(dir, pid, btime, opts.ClockTicks)
		if err != nil {
			st.Skipped++
			continue
		}
		st.Processes++
		st.FDs += nfd
		links = append(links, pp{pid, p.PPID})
	}
	for _, l := range links {
		if parent := s.procs[l.ppid]; parent != nil && l.ppid != l.pid {
			parent.children++
		}
	}
	return st, nil
}

func readBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

func (s *State) loadProcess(dir string, pid int32, btime, hz int64) (*Process, int, error) {
	stat, err := readBounded(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, 0, err
	}
	// pid (comm) state ppid pgrp session tty_nr ... starttime(22)
	open := bytes.IndexByte(stat, '(')
	cl := bytes.LastIndexByte(stat, ')')
	if open < 0 || cl < open {
		return nil, 0, fmt.Errorf("%s/stat: malformed", dir)
	}
	comm := string(stat[open+1 : cl])
	f := strings.Fields(string(stat[cl+1:]))
	if len(f) < 20 {
		return nil, 0, fmt.Errorf("%s/stat: %d fields", dir, len(f))
	}
	atoi := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	p := s.newProcess(pid)
	p.Comm = comm
	p.PPID = int32(atoi(f[1]))
	p.PGID = int32(atoi(f[2]))
	p.SID = int32(atoi(f[3]))
	p.TTY = uint32(atoi(f[4]))
	p.TID = pid
	if start := atoi(f[19]); btime > 0 {
		p.StartTS = btime*1e9 + start*(1e9/hz)
	}
	if b, err := readBounded(filepath.Join(dir, "cmdline")); err == nil {
		p.Args = splitList(p.Args[:0], b, nil)
	}
	if b, err := readBounded(filepath.Join(dir, "environ")); err == nil {
		p.Env = splitList(p.Env[:0], b, nil)
	}
	if t, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil {
		p.Cwd = t
	}
	if t, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		if strings.HasPrefix(t, "/memfd:") {
			p.ExeFlags |= ExeFromMemfd
		}
		p.ExePath = strings.TrimSuffix(t, " (deleted)")
	}
	if b, err := readBounded(filepath.Join(dir, "loginuid")); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil && v != 4294967295 {
			p.LoginUID = int64(v)
		}
	}
	if b, err := readBounded(filepath.Join(dir, "status")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			fs := strings.Fields(v)
			if len(fs) == 0 {
				continue
			}
			u := func(i int) uint32 {
				if i >= len(fs) {
					return 0
				}
				x, _ := strconv.ParseUint(fs[i], 10, 32)
				return uint32(x)
			}
			h := func() uint64 { x, _ := strconv.ParseUint(fs[0], 16, 64); return x }
			switch k {
			case "Uid":
				p.UID, p.EUID = u(0), u(1)
			case "Gid":
				p.GID, p.EGID = u(0), u(1)
			case "CapEff":
				p.CapEff = h()
			case "CapPrm":
				p.CapPrm = h()
			case "CapInh":
				p.CapInh = h()
			case "NSpid":
				p.VPID = int32(u(len(fs) - 1))
				p.VTID = p.VPID
			case "NSpgid":
				p.VPGID = int32(u(len(fs) - 1))
			}
		}
	}
	if p.VPID == 0 {
		p.VPID, p.VTID = pid, pid
	}
	if p.VPGID == 0 {
		p.VPGID = p.PGID
	}
	if b, err := readBounded(filepath.Join(dir, "cgroup")); err == nil {
		if m := containerIDRe.FindSubmatch(b); m != nil {
			p.ContainerID = string(m[1][:12])
		}
	}
	nfd := 0
	fdDir := filepath.Join(dir, "fd")
	if ents, err := os.ReadDir(fdDir); err == nil {
		for _, e := range ents {
			n, err := strconv.ParseInt(e.Name(), 10, 32)
			if err != nil {
				continue
			}
			t, err := os.Readlink(filepath.Join(fdDir, e.Name()))
			if err != nil {
				continue
			}
			fd := p.setFD(n, s.opts.MaxFDsPerProcess)
			if fd == nil {
				s.stats.FDEvictions++
				continue
			}
			nfd++
			switch {
			case strings.HasPrefix(t, "socket:"):
				fd.Type = FDUnknown
				fd.Name = t
			case strings.HasPrefix(t, "pipe:"):
				fd.Type = FDPipe
			case strings.HasPrefix(t, "anon_inode:"):
				fd.Type = anonInodeType(strings.Trim(strings.TrimPrefix(t, "anon_inode:"), "[]"))
			case strings.HasPrefix(t, "/memfd:"):
				fd.Type = FDMemfd
				fd.Name = strings.TrimSuffix(t[1:], " (deleted)")
			default:
				fd.Type = FDFile
				if fi, err := os.Stat(t); err == nil && fi.IsDir() {
					fd.Type = FDDirectory
				}
				fd.Name = t
				fd.NameRaw = t
			}
		}
	}
	return p, nfd, nil
}

func anonInodeType(s string) FDType {
	switch s {
	case "eventfd":
		return FDEvent
	case "signalfd":
		return FDSignalfd
	case "eventpoll":
		return FDEventpoll
	case "inotify":
		return FDInotify
	case "timerfd":
		return FDTimerfd
	case "bpf-map", "bpf-prog", "bpf_link", "bpf-link":
		return FDBpf
	case "userfaultfd":
		return FDUserfaultfd
	case "io_uring":
		return FDIOUring
	case "pidfd":
		return FDPidfd
	}
	return FDUnknown
}

// LoadPasswd reads passwd(5) lines (bounded) and returns how many users it
// recorded.
func (s *State) LoadPasswd(r io.Reader) int {
	n := 0
	sc := bufio.NewScanner(io.LimitReader(r, maxProcFile))
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		s.AddUser(uint32(uid), User{Name: f[0], Home: f[5], Shell: f[6]})
		n++
	}
	return n
}

// LoadGroup reads group(5) lines (bounded) and returns how many groups it
// recorded.
func (s *State) LoadGroup(r io.Reader) int {
	n := 0
	sc := bufio.NewScanner(io.LimitReader(r, maxProcFile))
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		s.AddGroup(uint32(gid), f[0])
		n++
	}
	return n
}
