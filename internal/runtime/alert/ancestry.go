package alert

import (
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Bounds of the forensic context attached to an alert.
const (
	// DefaultAncestry is the number of processes (the alerting process and
	// its ancestors) an alert carries when the caller gives no limit.
	DefaultAncestry = 16
	// MaxAncestry caps any limit a caller gives.
	MaxAncestry = 64
	maxArgs     = 64
	maxArgLen   = 1024
	maxArgBytes = 4096
)

// Ancestor is one process of an alert's ancestry, as the sensor's process
// table knew it when the alert fired.
type Ancestor struct {
	PID         int32    `json:"pid"`
	PPID        int32    `json:"ppid"`
	VPID        int32    `json:"vpid,omitempty"`
	Comm        string   `json:"comm"`
	Exe         string   `json:"exe,omitempty"`
	Args        []string `json:"args,omitempty"`
	UID         uint32   `json:"uid"`
	EUID        uint32   `json:"euid"`
	Start       string   `json:"start,omitempty"`
	ContainerID string   `json:"container_id,omitempty"`
	// ContainerInit marks the container's first process: its parent runs
	// outside the container (the runtime), and the chain stops there.
	ContainerInit bool `json:"container_init,omitempty"`
	// Truncated says Args were cut to the alert's bounds.
	Truncated bool `json:"args_truncated,omitempty"`
}

// ContainerInfo identifies the container (and pod) an alert fired in.
type ContainerInfo struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	Type         string `json:"type,omitempty"`
	Image        string `json:"image,omitempty"`
	ImageDigest  string `json:"image_digest,omitempty"`
	Privileged   bool   `json:"privileged,omitempty"`
	PodName      string `json:"pod_name,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
	PodUID       string `json:"pod_uid,omitempty"`
}

// Ancestry returns the process pid and its ancestors, nearest first, from
// the state's process table: up to the container's init for a process in a
// container, up to PID 1 on the host, and at most max entries (0 means
// DefaultAncestry; capped at MaxAncestry). The chain also stops at a
// parent the table does not know, or at a loop.
func Ancestry(st *event.State, pid int32, max int) []Ancestor {
	if st == nil {
		return nil
	}
	if max <= 0 {
		max = DefaultAncestry
	}
	max = min(max, MaxAncestry)
	p := st.Process(pid)
	var out []Ancestor
	seen := map[int32]bool{}
	for p != nil && len(out) < max && !seen[p.PID] {
		seen[p.PID] = true
		a := ancestorOf(p)
		parent := st.Parent(p)
		inCtr := isContainer(p.ContainerID)
		if inCtr && (parent == nil || parent.ContainerID != p.ContainerID) {
			a.ContainerInit = true
		}
		out = append(out, a)
		if a.ContainerInit || p.PID == 1 {
			break
		}
		p = parent
	}
	return out
}

func isContainer(id string) bool { return id != "" && id != "host" }

func ancestorOf(p *event.Process) Ancestor {
	a := Ancestor{PID: p.PID, PPID: p.PPID, VPID: p.VPID, Comm: p.Comm, Exe: p.ExePath, UID: p.UID, EUID: p.EUID}
	if isContainer(p.ContainerID) {
		a.ContainerID = p.ContainerID
	}
	if p.StartTS > 0 {
		a.Start = time.Unix(0, p.StartTS).UTC().Format(time.RFC3339Nano)
	}
	total := 0
	for i, arg := range p.Args {
		if i >= maxArgs || total >= maxArgBytes {
			a.Truncated = true
			break
		}
		if len(arg) > maxArgLen {
			arg = arg[:maxArgLen]
			a.Truncated = true
		}
		if total+len(arg) > maxArgBytes {
			arg = arg[:maxArgBytes-total]
			a.Truncated = true
		}
		total += len(arg)
		a.Args = append(a.Args, arg)
	}
	return a
}

// ContainerOf returns the identity of container id from the state (nil
// for the host). An unknown container still yields its id.
func ContainerOf(st *event.State, id string) *ContainerInfo {
	if !isContainer(id) {
		return nil
	}
	ci := &ContainerInfo{ID: id}
	if st == nil {
		return ci
	}
	if c := st.Container(id); c != nil {
		ci.Name, ci.Type, ci.Image, ci.ImageDigest, ci.Privileged = c.Name, c.Type, c.Image, c.ImageDigest, c.Privileged
		ci.PodName, ci.PodNamespace, ci.PodUID = c.PodName, c.PodNamespace, c.PodUID
	}
	return ci
}

// AddContext attaches the forensic context of the process pid to a: its
// ancestry (at most max processes, see Ancestry) and its container.
func AddContext(a *Alert, st *event.State, pid int32, max int) {
	if st == nil {
		return
	}
	a.Ancestry = Ancestry(st, pid, max)
	cid := ""
	if p := st.Process(pid); p != nil {
		cid = p.ContainerID
	}
	a.Container = ContainerOf(st, cid)
}
