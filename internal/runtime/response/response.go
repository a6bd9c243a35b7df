// Package response carries out opt-in response actions when a runtime
// rule fires: kill the offending process, pause (freeze) or stop its
// container. Actions are chosen per rule (by name or tag) in a policy file;
// nothing happens for rules the policy does not name. A dry run reports
// what would be done without doing it. Every action, done or not, is
// returned as an audit record for the alert stream.
//
// Containers are paused with the cgroup freezer and stopped by killing
// every process of the container's cgroup, which works the same for
// Docker, containerd, CRI-O and Podman and runs no runtime CLI.
package response

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Action is what to do.
type Action string

// The actions.
const (
	Kill  Action = "kill"  // SIGKILL the process that triggered the rule
	Pause Action = "pause" // freeze every process of its container
	Stop  Action = "stop"  // kill every process of its container
)

// Entry maps rules to actions.
type Entry struct {
	// Rules names rules (exact names); Tags selects rules by tag.
	Rules  []string `yaml:"rules"`
	Tags   []string `yaml:"tags"`
	Action Action   `yaml:"action"`
	// ContainersOnly restricts the entry to processes in containers.
	ContainersOnly bool `yaml:"containers_only"`
	line           int
}

// Policy is a parsed response policy file:
//
//	actions:
//	  - rules: ["Terminal shell in container"]
//	    action: kill
//	  - tags: [T1611]          # MITRE ATT&CK: escape to host
//	    action: stop
//	    containers_only: true
type Policy struct {
	Path    string
	Entries []Entry
	DryRun  bool
	// Root is prepended to /proc and /sys paths (tests).
	Root string
	// Self is the sensor's own PID: never acted upon.
	Self int
}

// Load reads a policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads policy content; errors name the file and line.
func Parse(name string, data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &Policy{Path: name, Self: os.Getpid()}
	if len(doc.Content) == 0 {
		return p, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: expected a mapping with \"actions:\"", name, root.Line, root.Column)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "dry_run":
			if err := v.Decode(&p.DryRun); err != nil {
				return nil, fmt.Errorf("%s:%d:%d: dry_run: %v", name, v.Line, v.Column, err)
			}
		case "actions":
			if v.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("%s:%d:%d: actions must be a list", name, v.Line, v.Column)
			}
			for _, n := range v.Content {
				var e Entry
				if err := n.Decode(&e); err != nil {
					return nil, fmt.Errorf("%s:%d:%d: %v", name, n.Line, n.Column, err)
				}
				e.line = n.Line
				switch e.Action {
				case Kill, Pause, Stop:
				default:
					return nil, fmt.Errorf("%s:%d:%d: unknown action %q (want kill, pause or stop)", name, n.Line, n.Column, e.Action)
				}
				if len(e.Rules) == 0 && len(e.Tags) == 0 {
					return nil, fmt.Errorf("%s:%d:%d: an action entry needs rules or tags", name, n.Line, n.Column)
				}
				p.Entries = append(p.Entries, e)
			}
		default:
			return nil, fmt.Errorf("%s:%d:%d: unknown key %q (want actions, dry_run)", name, k.Line, k.Column, k.Value)
		}
	}
	return p, nil
}

// Select returns the actions the policy names for a rule.
func (p *Policy) Select(rule string, tags []string, inContainer bool) []Action {
	if p == nil {
		return nil
	}
	var out []Action
	for _, e := range p.Entries {
		if e.ContainersOnly && !inContainer {
			continue
		}
		hit := false
		for _, r := range e.Rules {
			if r == rule {
				hit = true
			}
		}
		for _, t := range e.Tags {
			for _, rt := range tags {
				if strings.EqualFold(t, rt) {
					hit = true
				}
			}
		}
		if hit {
			out = append(out, e.Action)
		}
	}
	return out
}

// Record is the audit record of one action.
type Record struct {
	Time        time.Time `json:"time"`
	Rule        string    `json:"rule"`
	Action      Action    `json:"action"`
	PID         int       `json:"pid"`
	ContainerID string    `json:"container_id,omitempty"`
	DryRun      bool      `json:"dry_run"`
	// Result is "done", "dry-run", "skipped: ..." or "failed: ...".
	Result string `json:"result"`
	// Affected lists the PIDs acted upon.
	Affected []int `json:"affected,omitempty"`
}

func (r Record) String() string {
	s := fmt.Sprintf("ward response: %s for rule %q on pid %d", r.Action, r.Rule, r.PID)
	if r.ContainerID != "" {
		s += " container " + r.ContainerID
	}
	return s + ": " + r.Result
}

// Do carries out one action for the process pid (in container containerID,
// "" or "host" for host processes). For container actions, the container's
// cgroup is found from the process, else (it may have exited already) from
// its parent ppid, else by the container ID in the cgroup hierarchy.
func (p *Policy) Do(a Action, rule string, pid, ppid int, containerID string) Record {
	rec := Record{Time: time.Now().UTC(), Rule: rule, Action: a, PID: pid, ContainerID: containerID, DryRun: p.DryRun}
	inContainer := containerID != "" && containerID != "host"
	switch {
	case pid <= 1:
		rec.Result = "skipped: refusing to act on pid " + strconv.Itoa(pid)
		return rec
	case pid == p.Self:
		rec.Result = "skipped: the sensor's own process"
		return rec
	case (a == Pause || a == Stop) && !inContainer:
		rec.Result = "skipped: the process is not in a container"
		return rec
	}
	if p.DryRun {
		rec.Result = "dry-run"
		return rec
	}
	var err error
	switch a {
	case Kill:
		err = killProcess(pid)
		rec.Affected = []int{pid}
	case Pause:
		rec.Affected, err = p.freeze(pid, ppid, containerID)
	case Stop:
		rec.Affected, err = p.killCgroup(pid, ppid, containerID)
	}
	if err != nil {
		rec.Result = "failed: " + err.Error()
	} else {
		rec.Result = "done"
	}
	return rec
}

// cgroupDirs returns, for pid, the cgroup directory of the freezer (v1) or
// unified (v2) hierarchy, and whether it is v2.
func (p *Policy) cgroupDir(pid int, controller string) (string, bool, error) {
	f, err := os.Open(filepath.Join(p.Root, "/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	var v2 string
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return filepath.Join(p.Root, "/sys/fs/cgroup", controller, filepath.Clean("/"+parts[2])), false, nil
			}
		}
	}
	if v2 != "" {
		return filepath.Join(p.Root, "/sys/fs/cgroup", filepath.Clean("/"+v2)), true, nil
	}
	return "", false, fmt.Errorf("no %s cgroup for pid %d", controller, pid)
}

// containerCgroup finds the cgroup directory of a container for a
// controller: from the process, its parent, or a bounded search of the
// hierarchy for a directory named after the container ID.
func (p *Policy) containerCgroup(pid, ppid int, containerID, controller string) (string, bool, error) {
	var firstErr error
	for _, q := range []int{pid, ppid} {
		if q <= 1 {
			continue
		}
		dir, v2, err := p.cgroupDir(q, controller)
		if err == nil && strings.Contains(dir, ShortContainerID(containerID)) {
			return dir, v2, nil
		}
		if firstErr == nil {
			if err == nil {
				err = fmt.Errorf("pid %d is not in container %s", q, containerID)
			}
			firstErr = err
		}
	}
	short := ShortContainerID(containerID)
	if len(short) < 12 {
		return "", false, firstErr
	}
	for _, base := range []struct {
		dir string
		v2  bool
	}{{filepath.Join(p.Root, "/sys/fs/cgroup", controller), false}, {filepath.Join(p.Root, "/sys/fs/cgroup"), true}} {
		if dir := findDir(base.dir, short, 5); dir != "" {
			if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err == nil {
				return dir, base.v2 && !strings.HasPrefix(dir, filepath.Join(p.Root, "/sys/fs/cgroup", controller)), nil
			}
		}
	}
	return "", false, firstErr
}

// ShortContainerID is the 12-character form of a container ID.
func ShortContainerID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// findDir returns the first directory below root (at most depth levels)
// whose name contains needle.
func findDir(root, needle string, depth int) string {
	if depth == 0 {
		return ""
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.IsDir() && strings.Contains(e.Name(), needle) && !strings.Contains(e.Name(), "conmon") {
			return filepath.Join(root, e.Name())
		}
	}
	for _, e := range entries {
		if e.IsDir() {
			if d := findDir(filepath.Join(root, e.Name()), needle, depth-1); d != "" {
				return d
			}
		}
	}
	return ""
}

func (p *Policy) freeze(pid, ppid int, containerID string) ([]int, error) {
	dir, v2, err := p.containerCgroup(pid, ppid, containerID, "freezer")
	if err != nil {
		return nil, err
	}
	if dir == filepath.Join(p.Root, "/sys/fs/cgroup/freezer") || dir == filepath.Join(p.Root, "/sys/fs/cgroup") {
		return nil, errors.New("refusing to freeze the root cgroup")
	}
	pids, _ := readPIDs(filepath.Join(dir, "cgroup.procs"))
	if v2 {
		return pids, os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0)
	}
	return pids, os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0)
}

func (p *Policy) killCgroup(pid, ppid int, containerID string) ([]int, error) {
	dir, v2, err := p.containerCgroup(pid, ppid, containerID, "pids")
	if err != nil {
		return nil, err
	}
	if dir == filepath.Join(p.Root, "/sys/fs/cgroup/pids") || dir == filepath.Join(p.Root, "/sys/fs/cgroup") {
		return nil, errors.New("refusing to kill the root cgroup")
	}
	if v2 {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err == nil {
			pids, _ := readPIDs(filepath.Join(dir, "cgroup.procs"))
			return pids, nil
		}
	}
	// Kill until the cgroup is empty (processes may fork meanwhile).
	var all []int
	for round := 0; round < 10; round++ {
		pids, err := readPIDs(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			return all, err
		}
		if len(pids) == 0 {
			return all, nil
		}
		for _, q := range pids {
			if q != p.Self && q > 1 {
				killProcess(q)
				all = append(all, q)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return all, fmt.Errorf("cgroup %s still has processes", dir)
}

func readPIDs(name string) ([]int, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range bytes.Fields(data) {
		if n, err := strconv.Atoi(string(f)); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}
