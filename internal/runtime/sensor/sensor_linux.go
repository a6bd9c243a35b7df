//go:build linux && amd64

package sensor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/wardsec/ward/internal/runtime/bpf"
	"github.com/wardsec/ward/internal/runtime/event"
)

// Sensor is a loaded, attached set of BPF programs.
type Sensor struct {
	objs     sensorObjects
	links    []link.Link
	attached []string
	probes   []HookProbe
	learn    *learner
	noCaps   string
	rd       *ringbuf.Reader
	resolver *Resolver
	log      *slog.Logger
	// offset converts the kernel's monotonic clock to unix nanoseconds.
	offset int64

	delivered, decodeErrs, containers atomic.Uint64
	// idle is set while the reader sleeps until the kernel wakes it (Run's
	// state, read by the tests);
	// idleWakes counts the records that ended an idle period (tests).
	idle      atomic.Bool
	idleWakes atomic.Uint64
	seen      map[string]bool

	closeOnce sync.Once
	closeErr  error
}

// Supported reports whether this machine can run the sensor, and why not.
func Supported() error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return fmt.Errorf("%w: the kernel exposes no BTF (/sys/kernel/btf/vmlinux: %v); a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed", ErrNotSupported, err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not running as root (the sensor needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE)", ErrNotSupported)
	}
	return nil
}

// New loads the BPF programs, configures which system calls they report,
// and attaches them.
func New(opts Options) (*Sensor, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("%w: raising the memlock limit: %v", ErrNotSupported, err)
	}
	spec, err := bpf.LoadSensor()
	if err != nil {
		return nil, fmt.Errorf("loading BPF object: %w", err)
	}
	if size := ringSize(opts.RingBufferBytes); size > 0 {
		spec.Maps[bpf.SensorMapEvents].MaxEntries = uint32(size)
	}
	s := &Sensor{resolver: opts.Resolver, log: log, seen: map[string]bool{}}
	if s.resolver == nil {
		s.resolver = &Resolver{}
	}
	want := wantedTypes(opts.Types)
	if err := patchWanted(spec, wantedBits(want), uint32(os.Getpid())); err != nil {
		return nil, fmt.Errorf("loading BPF object: %w", err)
	}
	hook, refused, err := loadObjects(spec, &s.objs, opts.RawTracepoint)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: the kernel's verifier rejected the sensor: %v", ErrNotSupported, lastLines(fmt.Sprintf("%+v", ve), 8))
		}
		if errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w: %v", ErrNotSupported, err)
		}
		return nil, fmt.Errorf("loading BPF programs: %w", err)
	}
	if err := s.configure(want, opts.OpenPaths); err != nil {
		s.objs.Close()
		return nil, err
	}
	if refused != "" {
		log.Debug("tp_btf/sys_exit refused, using the raw tracepoint", "reason", refused)
		s.probes = append(s.probes, HookProbe{Kind: "tp_btf", Target: "sys_exit", Reason: refused})
	}
	l, err := attachSysExit(hook, s.objs.WardSysExit)
	if err != nil {
		s.objs.Close()
		return nil, fmt.Errorf("attaching %s: %w", hook, err)
	}
	s.links = append(s.links, l)
	s.attached = append(s.attached, hook)
	for _, a := range []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", s.objs.WardExec},
		{"sched_process_fork", s.objs.WardFork},
		{"sched_process_exit", s.objs.WardExit},
	} {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.name, Program: a.prog})
		if err != nil {
			s.Close()
			if errors.Is(err, ebpf.ErrNotSupported) {
				return nil, fmt.Errorf("%w: raw tracepoint %s: %v", ErrNotSupported, a.name, err)
			}
			return nil, fmt.Errorf("attaching raw tracepoint %s: %w", a.name, err)
		}
		s.links = append(s.links, l)
		s.attached = append(s.attached, "raw_tracepoint/"+a.name)
	}
	if opts.LearnSyscalls {
		s.learn, s.noCaps, err = loadLearner(&s.attached)
		if err != nil {
			s.Close()
			return nil, err
		}
		if s.noCaps != "" {
			log.Debug("capability learning unavailable", "reason", s.noCaps)
		}
	}
	s.probes = append(s.probes, ProbeHooks()...)
	s.rd, err = ringbuf.NewReader(s.objs.Events)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("ring buffer reader: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		s.offset = time.Now().UnixNano() - ts.Nano()
	}
	return s, nil
}

func ringSize(n int) int {
	if n <= 0 {
		return 0
	}
	page := os.Getpagesize()
	size := page
	for size < n {
		size <<= 1
	}
	return size
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// configure fills the system call spec map and the open filter, and tells
// the programs to ignore the sensor's own process.
func (s *Sensor) configure(want map[event.Type]bool, op *OpenPaths) error {
	for _, sc := range syscalls {
		if !want[sc.typ] {
			continue
		}
		v := bpf.SensorSpec{Type: uint16(sc.typ), Kinds: sc.kinds, Op: sc.op}
		if sc.op == opClose {
			// Every close is delivered until the caller has seeded the
			// fds it already knows (SeedFDs) and calls FDTrackingReady.
			v.Op = 0
		}
		if err := s.objs.SyscallSpecs.Put(uint32(sc.nr), &v); err != nil {
			return fmt.Errorf("configuring system call %d: %w", sc.nr, err)
		}
	}
	self := uint64(os.Getpid())
	if err := s.objs.WardConfig.Put(uint32(0), self); err != nil {
		return fmt.Errorf("configuring the sensor: %w", err)
	}
	// Wake the reader once an eighth of the ring is full; below that it
	// polls every PollInterval.
	if err := s.setWakeup(s.busyWakeup()); err != nil {
		return err
	}
	if f, ok := openFilter(op); ok {
		if err := s.objs.OpenFilter.Put(uint32(0), f); err != nil {
			return fmt.Errorf("configuring the open filter: %w", err)
		}
		s.log.Debug("open filter", "prefixes", len(op.Prefixes), "suffixes", len(op.Suffixes))
	}
	return nil
}

// openFilter builds the kernel's filter; ok=false leaves it off.
func openFilter(op *OpenPaths) (*bpf.SensorOfilter, bool) {
	if op == nil || len(op.Prefixes) > MaxOpenPatterns || len(op.Suffixes) > MaxOpenPatterns {
		return nil, false
	}
	f := &bpf.SensorOfilter{On: 1, Np: uint32(len(op.Prefixes)), Ns: uint32(len(op.Suffixes))}
	put := func(w *[8]uint64, l *uint32, p string) {
		var b [maxPattern]byte
		copy(b[:], p)
		for i := range w {
			w[i] = binary.LittleEndian.Uint64(b[i*8:])
		}
		*l = uint32(len(p))
	}
	for i, p := range op.Prefixes {
		if p == "" {
			return nil, false
		}
		if len(p) > maxPattern {
			p = p[:maxPattern]
		}
		put(&f.Pre[i].W, &f.Pre[i].Len, p)
		if len(p) < 8 {
			f.Pshort |= 1 << i
		} else {
			f.Pcand[prefixHash(f.Pre[i].W[0])] |= 1 << i
		}
	}
	for i, p := range op.Suffixes {
		if p == "" {
			return nil, false
		}
		if len(p) > maxPattern {
			p = p[len(p)-maxPattern:]
		}
		put(&f.Suf[i].W, &f.Suf[i].Len, p)
		f.Cand[p[len(p)-1]] |= 1 << i
		if len(p) == 1 {
			for b := range f.Cand2 {
				f.Cand2[b] |= 1 << i
			}
		} else {
			f.Cand2[p[len(p)-2]] |= 1 << i
		}
	}
	return f, true
}

// prefixHash is the kernel's PHASH (src/sensor.bpf.c): the pcand bucket
// of a path's first eight bytes, read as a little-endian word.
func prefixHash(w uint64) uint8 { return uint8((w * 0x9E3779B97F4A7C15) >> 56) }

// SeedFDs tells the kernel that user space has these fds of process pid in
// its table (from a /proc snapshot), so that their closes are delivered.
func (s *Sensor) SeedFDs(pid uint32, fds []int32) error {
	var bits uint64
	for _, fd := range fds {
		if fd >= 0 {
			bits |= 1 << min(uint(fd), 63)
		}
	}
	if bits == 0 {
		return nil
	}
	ret, err := s.objs.WardSeed.Run(&ebpf.RunOptions{Context: []uint64{uint64(pid), bits}})
	if err != nil {
		return fmt.Errorf("seeding fd tracking: %w", err)
	}
	if ret != 0 {
		return fmt.Errorf("seeding fd tracking: the tracking map is full")
	}
	return nil
}

// FDTrackingReady ends the start-up period in which every close is
// delivered: from now on, closes of fds user space cannot know are dropped
// in the kernel. Call it after SeedFDs for every fd of the snapshot.
// If a tracking map update failed meanwhile (the map is full), closes stay
// unfiltered.
func (s *Sensor) FDTrackingReady() error {
	var failed uint64
	if err := s.objs.WardConfig.Lookup(uint32(2), &failed); err != nil {
		return fmt.Errorf("reading the sensor's configuration: %w", err)
	}
	if failed != 0 {
		s.log.Warn("fd tracking map full: every close is delivered")
		return nil
	}
	for _, sc := range syscalls {
		if sc.op != opClose {
			continue
		}
		var v bpf.SensorSpec
		if err := s.objs.SyscallSpecs.Lookup(uint32(sc.nr), &v); err != nil {
			return fmt.Errorf("reading system call %d's spec: %w", sc.nr, err)
		}
		if v.Type == 0 {
			continue // not wanted
		}
		v.Op = opClose
		if err := s.objs.SyscallSpecs.Put(uint32(sc.nr), &v); err != nil {
			return fmt.Errorf("configuring system call %d: %w", sc.nr, err)
		}
	}
	return nil
}

// busyWakeup is the wakeup threshold while the reader polls: an eighth
// of the ring.
func (s *Sensor) busyWakeup() uint64 { return uint64(s.objs.Events.MaxEntries() / 8) }

// setWakeup sets the amount of unread ring data (bytes) from which a
// record wakes the reader (ward_config[CFG_WAKEUP]; 0: every record).
func (s *Sensor) setWakeup(bytes uint64) error {
	if err := s.objs.WardConfig.Put(uint32(1), bytes); err != nil {
		return fmt.Errorf("configuring the ring buffer wakeup: %w", err)
	}
	return nil
}

// Run reads events until ctx is done or the sensor is closed, calling
// handle for each (and, before the first event of a container, a
// TypeContainerStart event with its metadata). handle runs on Run's
// goroutine; the event is reused after it returns.
func (s *Sensor) Run(ctx context.Context, handle func(*event.Event)) error {
	stop := context.AfterFunc(ctx, func() { s.rd.Close() })
	defer stop()
	var rec ringbuf.Record
	ev := &event.Event{}
	cev := &event.Event{}
	intern := event.NewInterner(4096)
	var num uint64
	// Busy, the reader polls every PollInterval and the kernel wakes it
	// only once an eighth of the ring is full (a context switch saved per
	// record under load). After idleAfter without a record it is idle: the
	// kernel wakes it for every record (wakeup threshold 0) and it sleeps.
	var empty time.Duration
	s.rd.SetDeadline(time.Now().Add(PollInterval))
	for {
		if err := s.rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if !s.idle.Load() {
					empty += PollInterval
					if empty >= idleAfter {
						if err := s.setWakeup(0); err != nil {
							return err
						}
						s.idle.Store(true)
					}
				}
				if s.idle.Load() {
					s.rd.SetDeadline(time.Now().Add(idlePoll))
				} else {
					s.rd.SetDeadline(time.Now().Add(PollInterval))
				}
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return nil // ctx done or Close called
			}
			return fmt.Errorf("reading the ring buffer: %w", err)
		}
		empty = 0
		if s.idle.Load() {
			if err := s.setWakeup(s.busyWakeup()); err != nil {
				return err
			}
			s.idle.Store(false)
			s.idleWakes.Add(1)
			s.rd.SetDeadline(time.Now().Add(PollInterval))
		}
		ev.Reset()
		if err := event.DecodeRecord(rec.RawSample, ev, intern); err != nil {
			s.decodeErrs.Add(1)
			s.log.Debug("decode", "err", err)
			continue
		}
		num++
		ev.Num = num
		ev.TS += s.offset
		if ev.Type.IsExec() || ev.Type == event.TypeClone {
			s.resolveContainer(ev, cev, handle)
		}
		s.delivered.Add(1)
		handle(ev)
	}
}

// resolveContainer turns the raw cgroup names the kernel sent into a
// container ID ("host" for host processes) and announces new containers.
func (s *Sensor) resolveContainer(ev, cev *event.Event, handle func(*event.Event)) {
	raw := ev.ContainerID
	if raw == "" {
		return
	}
	full, runtime := ContainerFromCgroup(strings.Split(raw, "\x00")...)
	if full == "" {
		ev.ContainerID = HostID
		return
	}
	ev.ContainerID = full
	if s.seen[full] {
		return
	}
	s.seen[full] = true
	s.containers.Add(1)
	c := s.resolver.Lookup(full, runtime)
	cev.Reset()
	cev.Type = event.TypeContainerStart
	cev.TS = ev.TS
	cev.PID, cev.TID = ev.PID, ev.TID
	cev.ContainerID = full
	cev.Container = c
	handle(cev)
}

// Stats returns the counters.
func (s *Sensor) Stats() Stats {
	st := Stats{Delivered: s.delivered.Load(), DecodeErrors: s.decodeErrs.Load(), Containers: s.containers.Load()}
	sum := func(idx uint32) uint64 {
		var vals []uint64
		if err := s.objs.Counters.Lookup(idx, &vals); err != nil {
			return 0
		}
		var t uint64
		for _, v := range vals {
			t += v
		}
		return t
	}
	st.Events = sum(0)
	st.KernelDrops = sum(1)
	st.Truncated = sum(2)
	return st
}

// Close detaches the programs and frees the maps. It is safe to call more
// than once.
func (s *Sensor) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, l := range s.links {
			errs = append(errs, l.Close())
		}
		if s.rd != nil {
			errs = append(errs, s.rd.Close())
		}
		if s.learn != nil {
			errs = append(errs, s.learn.close())
		}
		errs = append(errs, s.objs.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
