package capture

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/rules/defaults"
)

var update = flag.Bool("update", false, "rewrite golden files")

const demo = "../../runtime/testdata/demo.wevt"

func loadEngine(t testing.TB) *rules.Engine {
	t.Helper()
	name, data := defaults.File()
	eng, err := rules.LoadSources([]rules.Source{{Name: name, Data: data}}, rules.Options{AppendOutput: rules.ContainerAppendOutput})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// runDemo replays the demo event file the way ward runtime watch does
// with --capture: the ring is fed after the state applied each event,
// alerts trigger captures.
func runDemo(t testing.TB, opts Options) (*Recorder, []string) {
	t.Helper()
	f, err := os.Open(demo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := event.NewReader(f)
	hdr, err := rd.Header()
	if err != nil {
		t.Fatal(err)
	}
	opts.Hostname = hdr.Hostname
	rec, err := NewRecorder(opts)
	if err != nil {
		t.Fatal(err)
	}
	eng := loadEngine(t)
	st := event.NewState(event.Options{})
	st.Hostname = hdr.Hostname
	var paths []string
	var ev event.Event
	for {
		if err := rd.Read(&ev); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		st.Apply(&ev)
		rec.Add(&ev, st)
		eng.Eval(&ev, st, func(m *rules.Match) {
			a := alert.FromMatch(m)
			alert.AddContext(&a, st, ev.PID, alert.DefaultAncestry)
			paths = append(paths, rec.Trigger(&a, &ev, st, ev.PID))
		})
	}
	rec.Close()
	return rec, paths
}

// TestDemoCapture writes the capture of the demo's first alerts and
// compares it with the golden file (go test -update rewrites it); the
// golden capture is also the fixture of the ward runtime replay testscript.
func TestDemoCapture(t *testing.T) {
	dir := t.TempDir()
	rec, paths := runDemo(t, Options{Ring: 8, After: 4, Dir: dir})
	if len(paths) != 5 {
		t.Fatalf("%d alerts, want 5 (paths %v)", len(paths), paths)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	st := rec.Stats()
	if int(st.Captures) != len(files) || st.Errors != 0 {
		t.Fatalf("stats %+v, files %v", st, files)
	}
	// alerts of one container while a capture waits share its file
	if len(files) != 2 {
		t.Fatalf("%d capture files, want 2: %v", len(files), files)
	}
	got, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	// the path inside the alert depends on the temp dir
	got = bytes.ReplaceAll(got, []byte(dir+string(filepath.Separator)), nil)
	golden := filepath.Join("testdata", "demo.capture.jsonl")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("capture differs from %s (go test -update):\n%s", golden, got)
	}
	// it reads back: header counts, phases in order, the recorded alerts.
	r, c, err := Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := r.Header()
	if h.Trigger != "Ward Reverse Shell Socket Redirect" || h.Ctr == nil || h.Ctr.PodName != "web-0" || h.Ring != 8 {
		t.Errorf("header %+v", h)
	}
	var phases []string
	var rc Record
	var ev event.Event
	for {
		err := r.Next(&rc)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rc.Event != nil {
			if err := rc.Event.ToEvent(&ev); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(phases); n == 0 || phases[n-1] != rc.Phase {
			phases = append(phases, rc.Phase)
		}
	}
	if g := strings.Join(phases, ","); !strings.HasPrefix(g, "seed,before,trigger,alert") || !strings.Contains(g, "after") {
		t.Errorf("phases %s", g)
	}
}

// TestEventRoundTrip: every field of an event survives the JSON form.
func TestEventRoundTrip(t *testing.T) {
	in := event.Event{Num: 7, TS: 1700000000123456789, Type: event.TypeConnect, PID: 42, TID: 43, Res: -111, FD: 3,
		Path: "/a", Path2: "/b", Flags: 1, Mode: 0o644, Arg: 2, Arg2: 1, Arg3: 6, Data: []byte{0, 1, 2},
		Comm: "nc", Args: []string{"nc", "x"}, Env: []string{"A=1"}, Cwd: "/", UID: 1, GID: 2, EUID: 3, EGID: 4,
		LoginUID: -1, CapEff: 5, CapPrm: 6, CapInh: 7, TTY: 8, PPID: 9, PGID: 10, SID: 11, VPID: 12, VTID: 13, VPGID: 14,
		ExeFlags: 2, ExeIno: 99, ExeCtime: 5, ExeMtime: 6, ContainerID: "abc",
		Addr: event.Addr{Family: event.AFInet, L4: event.L4TCP, SrcPort: 4000, DstPort: 443},
		Container: &event.Container{ID: "abc", Name: "n", Mounts: []event.Mount{{Source: "/s", Dest: "/d", RW: true}},
			Labels: []event.KV{{Key: "k", Value: "v"}}, PodName: "p"}}
	copy(in.Addr.SrcIP[:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1})
	copy(in.Addr.DstIP[:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	b, err := marshalLine(FromEvent(&in))
	if err != nil {
		t.Fatal(err)
	}
	var je Event
	if err := strictUnmarshal(b, &je); err != nil {
		t.Fatal(err)
	}
	var out event.Event
	if err := je.ToEvent(&out); err != nil {
		t.Fatal(err)
	}
	b2, _ := marshalLine(FromEvent(&out))
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	if out.Addr != in.Addr || out.Container.Mounts[0] != in.Container.Mounts[0] {
		t.Errorf("addr/container differ: %+v", out.Addr)
	}
}

// TestDamage: damaged files fail with the file, the line and the byte
// offset of the damaged record.
func TestDamage(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "demo.capture.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	off2 := len(lines[0]) + len(lines[1])
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "c.jsonl: line 1 (byte offset 0): empty file"},
		{"not json", "WARDEVTS\n", "line 1 (byte offset 0): header: invalid character 'W'"},
		{"other format", `{"format":"x","version":1}` + "\n", `format "x", want "ward-capture"`},
		{"future version", `{"format":"ward-capture","version":9}` + "\n", "version 9, this Ward reads versions 1 to 1"},
		{"counts", `{"format":"ward-capture","version":1,"records":2,"events":1,"alerts":0}` + "\n", "do not add up"},
		{"too many", `{"format":"ward-capture","version":1,"records":2000000,"events":2000000,"alerts":0}` + "\n", "2000000 records, want 0 to 1048576"},
		{"truncated", string(good[:off2]), "truncated: header says"},
		{"cut line", string(good[:off2+10]), fmt_line(3, off2) + "last line has no newline"},
		{"bad record", string(good[:off2]) + "{\"phase\":\"before\"}\n", fmt_line(3, off2) + "a before record carries exactly an event"},
		{"bad phase", string(good[:off2]) + "{\"phase\":\"x\",\"event\":{}}\n", fmt_line(3, off2) + `unknown phase "x"`},
		{"bad json", string(good[:off2]) + "{\"phase\":\n", fmt_line(3, off2) + "unexpected EOF"},
		{"long line", string(good[:off2]) + strings.Repeat("x", MaxLine+1) + "\n", fmt_line(3, off2) + "line longer than 1048576 bytes"},
		{"extra", string(good) + string(lines[1]), "more records than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll("c.jsonl", []byte(tc.data))
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a ParseError containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "capture c.jsonl: line ") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	if err := readAll("ok", good); err != nil {
		t.Fatalf("golden capture: %v", err)
	}
}

func fmt_line(line, off int) string {
	return "line " + itoa(line) + " (byte offset " + itoa(off) + "): "
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func readAll(name string, data []byte) error {
	r, err := NewReader(name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	var rc Record
	var ev event.Event
	for {
		err := r.Next(&rc)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if rc.Event != nil {
			if err := r.Event(&rc, &ev); err != nil {
				return err
			}
		}
	}
}

// TestRecorderBounds: the ring keeps the last N events; containers beyond
// the budget are evicted; bad options are refused; the host has a ring.
func TestRecorderBounds(t *testing.T) {
	if _, err := NewRecorder(Options{Ring: 0}); err == nil {
		t.Error("ring 0 accepted")
	}
	if _, err := NewRecorder(Options{Ring: 1, Dir: "/nonexistent/x"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/x") {
		t.Errorf("missing dir: %v", err)
	}
	dir := t.TempDir()
	rec, err := NewRecorder(Options{Ring: 3, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	st := event.NewState(event.Options{})
	var ev event.Event
	for i := 1; i <= 10; i++ {
		ev = event.Event{Num: uint64(i), TS: int64(i), Type: event.TypeOpenat, PID: 5, Path: "/f" + itoa(i), LoginUID: -1}
		st.Apply(&ev)
		rec.Add(&ev, st)
	}
	a := alert.Alert{Rule: "r", Time: "t"}
	path := rec.Trigger(&a, &ev, st, 5)
	r, c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	var rc Record
	for r.Next(&rc) == nil {
		if rc.Event != nil && rc.Phase != PhaseSeed {
			got = append(got, rc.Phase+":"+rc.Event.Path)
		}
	}
	if g := strings.Join(got, " "); g != "before:/f8 before:/f9 trigger:/f10" {
		t.Errorf("ring %s", g)
	}
	if r.Header().Dropped != 7 {
		t.Errorf("dropped %d", r.Header().Dropped)
	}
	// container budget
	rec2, err := NewRecorder(Options{Ring: 4, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rec2.maxCtrs = 2
	for i := 0; i < 3; i++ {
		ev := event.Event{Type: event.TypeOpenat, PID: int32(100 + i), ContainerID: "c" + itoa(i), LoginUID: -1}
		st.Apply(&ev)
		rec2.Add(&ev, st)
	}
	if len(rec2.rings) != 2 || rec2.Stats().Evicted != 1 || rec2.rings["c0"] != nil {
		t.Errorf("rings %d evicted %d", len(rec2.rings), rec2.Stats().Evicted)
	}
}
