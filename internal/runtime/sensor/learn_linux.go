//go:build linux && amd64

package sensor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/wardsec/ward/internal/runtime/bpf"
)

// learner is the loaded syscall and capability learner (bpf/src/learn.bpf.c).
type learner struct {
	objs  bpf.LearnObjects
	links []link.Link
}

// loadLearner loads the learner and attaches its programs; the hooks
// attached are appended to attached. Without the cap_capable tracepoint
// (kernels before 6.14) system calls are still learned and the reason is
// returned in noCaps.
func loadLearner(attached *[]string) (l *learner, noCaps string, err error) {
	spec, err := bpf.LoadLearn()
	if err != nil {
		return nil, "", fmt.Errorf("loading the learner's BPF object: %w", err)
	}
	l = &learner{}
	if err := spec.LoadAndAssign(&l.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, "", fmt.Errorf("%w: the kernel's verifier rejected the syscall learner: %v", ErrNotSupported, lastLines(fmt.Sprintf("%+v", ve), 8))
		}
		return nil, "", fmt.Errorf("loading the syscall learner: %w", err)
	}
	for _, a := range []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", l.objs.WardLearnExec},
		{"sched_process_fork", l.objs.WardLearnFork},
		{"sched_process_exit", l.objs.WardLearnExit},
		{"sys_enter", l.objs.WardLearnSys},
		{"cap_capable", l.objs.WardLearnCap},
	} {
		k, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.name, Program: a.prog})
		if err != nil {
			if a.name == "cap_capable" {
				noCaps = fmt.Sprintf("raw tracepoint cap_capable: %v (Linux 6.14+ has it)", err)
				break
			}
			l.close()
			return nil, "", fmt.Errorf("attaching the learner to raw tracepoint %s: %w", a.name, err)
		}
		l.links = append(l.links, k)
		*attached = append(*attached, "raw_tracepoint/"+a.name+" (learn)")
	}
	return l, noCaps, nil
}

func (l *learner) close() error {
	var errs []error
	for _, k := range l.links {
		errs = append(errs, k.Close())
	}
	errs = append(errs, l.objs.Close())
	return errors.Join(errs...)
}

// usage reads the learner's map: one Usage per container, merged over the
// container's cgroups, sorted by container ID.
func (l *learner) usage() ([]Usage, error) {
	type acc struct {
		sys              [8]uint64
		caps, capsDenied uint64
	}
	byID := map[string]*acc{}
	var key uint64
	var v bpf.LearnUsage
	it := l.objs.LearnUsage.Iterate()
	for it.Next(&key, &v) {
		raw := v.Cgroup[:]
		dfl := cstr(raw[:len(raw)/2])
		v1 := cstr(raw[len(raw)/2:])
		id, _ := ContainerFromCgroup(dfl, v1)
		if id == "" {
			continue // a cgroup with an ID that is no container's (conmon)
		}
		a := byID[id]
		if a == nil {
			a = &acc{}
			byID[id] = a
		}
		for i := range a.sys {
			a.sys[i] |= v.Sys[i]
		}
		a.caps |= v.CapsUsed
		a.capsDenied |= v.CapsDenied
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading the syscall learner's map: %w", err)
	}
	out := make([]Usage, 0, len(byID))
	for id, a := range byID {
		u := Usage{ContainerID: id, Capabilities: capList(a.caps), Denied: capList(a.capsDenied &^ a.caps)}
		for w, bits := range a.sys {
			for b := 0; b < 64; b++ {
				if bits&(1<<b) == 0 {
					continue
				}
				if nr := w*64 + b; nr < len(syscallNames) && syscallNames[nr] != "" {
					u.Syscalls = append(u.Syscalls, syscallNames[nr])
				} else {
					u.Syscalls = append(u.Syscalls, "syscall_"+strconv.Itoa(nr))
				}
			}
		}
		slices.Sort(u.Syscalls)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b Usage) int { return strings.Compare(a.ContainerID, b.ContainerID) })
	return out, nil
}

func cstr(b []byte) string {
	if i := slices.Index(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Usage returns what the syscall learner saw each container use so far.
// It fails unless the sensor was created with Options.LearnSyscalls.
func (s *Sensor) Usage() ([]Usage, error) {
	if s.learn == nil {
		return nil, errors.New("the syscall learner is not loaded (Options.LearnSyscalls)")
	}
	return s.learn.usage()
}
