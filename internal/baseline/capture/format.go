// Package capture keeps a bounded in-memory ring of the last events of
// every container (Recorder) and, when an alert fires, writes the events
// around it to a replayable capture file: versioned JSON lines, one header
// line then one record per line (Writer, Reader; docs/baselines.md,
// "Capture files"). ward runtime replay runs a capture through the same
// rule engine and drift monitor as ward runtime watch.
package capture

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

// Format constants.
const (
	// FormatName is the header's "format" value.
	FormatName = "ward-capture"
	// Version is the format version written; readers accept 1..Version.
	Version = 1
	// MaxLine bounds one line (header or record) in bytes.
	MaxLine = 1 << 20
	// MaxRecords bounds the records a reader accepts from one file.
	MaxRecords = 1 << 20
)

// Record phases: where a record sits relative to the alert.
const (
	PhaseSeed    = "seed"    // state rebuilt from the sensor's tables at the alert
	PhaseBefore  = "before"  // ring events before the first alert
	PhaseTrigger = "trigger" // an event that raised an alert
	PhaseAfter   = "after"   // events after the first alert
	PhaseAlert   = "alert"   // an alert as it was sent, after its trigger event
)

// Header is the first line of a capture file.
type Header struct {
	Format   string               `json:"format"`
	Version  int                  `json:"version"`
	Hostname string               `json:"hostname,omitempty"`
	Created  string               `json:"created"` // time of the first alert (RFC 3339)
	Trigger  string               `json:"trigger_rule"`
	Ring     int                  `json:"ring"`  // ring size (events per container)
	After    int                  `json:"after"` // events asked for after the alert
	Records  int                  `json:"records"`
	Events   int                  `json:"events"`
	Alerts   int                  `json:"alerts"`
	Dropped  uint64               `json:"ring_dropped,omitempty"` // events of this container that fell out of the ring before the alert
	Ctr      *alert.ContainerInfo `json:"container,omitempty"`
}

// Record is one line after the header: an event (with its phase) or an
// alert.
type Record struct {
	Phase string       `json:"phase"`
	Event *Event       `json:"event,omitempty"`
	Alert *alert.Alert `json:"alert,omitempty"`
}

// Event is the JSON form of event.Event: only set fields are written;
// type is the Falco event type name.
type Event struct {
	Num         uint64     `json:"num,omitempty"`
	TS          int64      `json:"ts"`
	Type        string     `json:"type"`
	PID         int32      `json:"pid"`
	TID         int32      `json:"tid,omitempty"`
	Res         int64      `json:"res,omitempty"`
	FD          int64      `json:"fd,omitempty"`
	Path        string     `json:"path,omitempty"`
	Path2       string     `json:"path2,omitempty"`
	Flags       uint32     `json:"flags,omitempty"`
	Mode        uint32     `json:"mode,omitempty"`
	Arg         int64      `json:"arg,omitempty"`
	Arg2        int64      `json:"arg2,omitempty"`
	Arg3        int64      `json:"arg3,omitempty"`
	Addr        *Addr      `json:"addr,omitempty"`
	Data        []byte     `json:"data,omitempty"`
	Comm        string     `json:"comm,omitempty"`
	Args        []string   `json:"args,omitempty"`
	Env         []string   `json:"env,omitempty"`
	Cwd         string     `json:"cwd,omitempty"`
	UID         uint32     `json:"uid,omitempty"`
	GID         uint32     `json:"gid,omitempty"`
	EUID        uint32     `json:"euid,omitempty"`
	EGID        uint32     `json:"egid,omitempty"`
	LoginUID    int64      `json:"loginuid"`
	CapEff      uint64     `json:"cap_eff,omitempty"`
	CapPrm      uint64     `json:"cap_prm,omitempty"`
	CapInh      uint64     `json:"cap_inh,omitempty"`
	TTY         uint32     `json:"tty,omitempty"`
	PPID        int32      `json:"ppid,omitempty"`
	PGID        int32      `json:"pgid,omitempty"`
	SID         int32      `json:"sid,omitempty"`
	VPID        int32      `json:"vpid,omitempty"`
	VTID        int32      `json:"vtid,omitempty"`
	VPGID       int32      `json:"vpgid,omitempty"`
	ExeFlags    uint32     `json:"exe_flags,omitempty"`
	ExeIno      uint64     `json:"exe_ino,omitempty"`
	ExeCtime    int64      `json:"exe_ctime,omitempty"`
	ExeMtime    int64      `json:"exe_mtime,omitempty"`
	ContainerID string     `json:"container_id,omitempty"`
	Container   *Container `json:"container,omitempty"`
}

// Addr is a socket tuple with textual addresses.
type Addr struct {
	Family  uint16 `json:"family"`
	L4      uint8  `json:"l4,omitempty"`
	SrcIP   string `json:"src,omitempty"`
	SrcPort uint16 `json:"sport,omitempty"`
	DstIP   string `json:"dst,omitempty"`
	DstPort uint16 `json:"dport,omitempty"`
}

// Container is the JSON form of event.Container.
type Container struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Type         string     `json:"type,omitempty"`
	Image        string     `json:"image,omitempty"`
	ImageID      string     `json:"image_id,omitempty"`
	ImageRepo    string     `json:"image_repo,omitempty"`
	ImageTag     string     `json:"image_tag,omitempty"`
	ImageDigest  string     `json:"image_digest,omitempty"`
	Privileged   bool       `json:"privileged,omitempty"`
	HostPID      bool       `json:"host_pid,omitempty"`
	HostNetwork  bool       `json:"host_network,omitempty"`
	StartTS      int64      `json:"start_ts,omitempty"`
	Mounts       []Mount    `json:"mounts,omitempty"`
	Labels       []event.KV `json:"labels,omitempty"`
	IP           string     `json:"ip,omitempty"`
	PodName      string     `json:"pod_name,omitempty"`
	PodUID       string     `json:"pod_uid,omitempty"`
	PodNamespace string     `json:"pod_namespace,omitempty"`
	PodLabels    []event.KV `json:"pod_labels,omitempty"`
}

// Mount is the JSON form of event.Mount.
type Mount struct {
	Source      string `json:"source,omitempty"`
	Dest        string `json:"dest"`
	Mode        string `json:"mode,omitempty"`
	RW          bool   `json:"rw,omitempty"`
	Propagation string `json:"propagation,omitempty"`
}

// FromEvent converts an event to its JSON form.
func FromEvent(ev *event.Event) *Event {
	e := &Event{Num: ev.Num, TS: ev.TS, Type: ev.Type.String(), PID: ev.PID, TID: ev.TID, Res: ev.Res, FD: ev.FD,
		Path: ev.Path, Path2: ev.Path2, Flags: ev.Flags, Mode: ev.Mode, Arg: ev.Arg, Arg2: ev.Arg2, Arg3: ev.Arg3,
		Comm: ev.Comm, Cwd: ev.Cwd, UID: ev.UID, GID: ev.GID, EUID: ev.EUID, EGID: ev.EGID, LoginUID: ev.LoginUID,
		CapEff: ev.CapEff, CapPrm: ev.CapPrm, CapInh: ev.CapInh, TTY: ev.TTY, PPID: ev.PPID, PGID: ev.PGID, SID: ev.SID,
		VPID: ev.VPID, VTID: ev.VTID, VPGID: ev.VPGID, ExeFlags: ev.ExeFlags, ExeIno: ev.ExeIno, ExeCtime: ev.ExeCtime,
		ExeMtime: ev.ExeMtime, ContainerID: ev.ContainerID}
	if len(ev.Data) > 0 {
		e.Data = append([]byte(nil), ev.Data...)
	}
	if len(ev.Args) > 0 {
		e.Args = append([]string(nil), ev.Args...)
	}
	if len(ev.Env) > 0 {
		e.Env = append([]string(nil), ev.Env...)
	}
	if ev.Addr != (event.Addr{}) {
		a := ev.Addr
		e.Addr = &Addr{Family: a.Family, L4: a.L4, SrcPort: a.SrcPort, DstPort: a.DstPort}
		if a.SrcIP != ([16]byte{}) {
			e.Addr.SrcIP = netip.AddrFrom16(a.SrcIP).Unmap().String()
		}
		if a.DstIP != ([16]byte{}) {
			e.Addr.DstIP = netip.AddrFrom16(a.DstIP).Unmap().String()
		}
	}
	if c := ev.Container; c != nil {
		jc := &Container{ID: c.ID, Name: c.Name, Type: c.Type, Image: c.Image, ImageID: c.ImageID, ImageRepo: c.ImageRepo,
			ImageTag: c.ImageTag, ImageDigest: c.ImageDigest, Privileged: c.Privileged, HostPID: c.HostPID,
			HostNetwork: c.HostNetwork, StartTS: c.StartTS, Labels: c.Labels, IP: c.IP, PodName: c.PodName,
			PodUID: c.PodUID, PodNamespace: c.PodNamespace, PodLabels: c.PodLabels}
		for _, m := range c.Mounts {
			jc.Mounts = append(jc.Mounts, Mount(m))
		}
		e.Container = jc
	}
	return e
}

// ToEvent converts the JSON form back into ev (reset first).
func (e *Event) ToEvent(ev *event.Event) error {
	t, ok := event.TypeByName(e.Type)
	if !ok {
		return fmt.Errorf("unknown event type %q", e.Type)
	}
	ev.Reset()
	*ev = event.Event{Num: e.Num, TS: e.TS, Type: t, PID: e.PID, TID: e.TID, Res: e.Res, FD: e.FD,
		Path: e.Path, Path2: e.Path2, Flags: e.Flags, Mode: e.Mode, Arg: e.Arg, Arg2: e.Arg2, Arg3: e.Arg3,
		Comm: e.Comm, Args: e.Args, Env: e.Env, Data: e.Data, Cwd: e.Cwd, UID: e.UID, GID: e.GID, EUID: e.EUID,
		EGID: e.EGID, LoginUID: e.LoginUID, CapEff: e.CapEff, CapPrm: e.CapPrm, CapInh: e.CapInh, TTY: e.TTY,
		PPID: e.PPID, PGID: e.PGID, SID: e.SID, VPID: e.VPID, VTID: e.VTID, VPGID: e.VPGID, ExeFlags: e.ExeFlags,
		ExeIno: e.ExeIno, ExeCtime: e.ExeCtime, ExeMtime: e.ExeMtime, ContainerID: e.ContainerID}
	if a := e.Addr; a != nil {
		ev.Addr = event.Addr{Family: a.Family, L4: a.L4, SrcPort: a.SrcPort, DstPort: a.DstPort}
		var err error
		if ev.Addr.SrcIP, err = parseIP(a.SrcIP); err != nil {
			return fmt.Errorf("addr.src: %w", err)
		}
		if ev.Addr.DstIP, err = parseIP(a.DstIP); err != nil {
			return fmt.Errorf("addr.dst: %w", err)
		}
	}
	if c := e.Container; c != nil {
		if c.ID == "" {
			return fmt.Errorf("container without id")
		}
		ec := &event.Container{ID: c.ID, Name: c.Name, Type: c.Type, Image: c.Image, ImageID: c.ImageID,
			ImageRepo: c.ImageRepo, ImageTag: c.ImageTag, ImageDigest: c.ImageDigest, Privileged: c.Privileged,
			HostPID: c.HostPID, HostNetwork: c.HostNetwork, StartTS: c.StartTS, Labels: c.Labels, IP: c.IP,
			PodName: c.PodName, PodUID: c.PodUID, PodNamespace: c.PodNamespace, PodLabels: c.PodLabels}
		for _, m := range c.Mounts {
			ec.Mounts = append(ec.Mounts, event.Mount(m))
		}
		ev.Container = ec
	}
	return nil
}

func parseIP(s string) ([16]byte, error) {
	if s == "" {
		return [16]byte{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return [16]byte{}, err
	}
	return a.As16(), nil
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b)+1 > MaxLine {
		return nil, fmt.Errorf("record of %d bytes exceeds the %d-byte line limit", len(b), MaxLine)
	}
	return append(b, '\n'), nil
}
