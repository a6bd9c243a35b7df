package rules

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

var update = flag.Bool("update", false, "rewrite the recorded event fixtures in internal/runtime/testdata")

const fixtureDir = "../testdata"

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func encode(t testing.TB, evs []event.Event) []byte {
	var buf bytes.Buffer
	w := event.NewWriter(&buf, "fixture-host", 1_700_000_000_000_000_000)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAll(t testing.TB, data []byte) []event.Event {
	r := event.NewReader(bytes.NewReader(data))
	var out []event.Event
	for {
		var ev event.Event
		if err := r.Read(&ev); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("decode: %v", err)
		}
		out = append(out, ev)
	}
}

// golden writes (with -update) or compares a fixture file.
func golden(t *testing.T, path string, data []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/runtime/rules -run Fixtures -update)", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%s differs from the scenario (run with -update if the change is intended)", path)
	}
}

// TestRecordedFixtures keeps a recorded event file (replay format) for the
// fire and near-miss fixture of every upstream stable and Ward rule, and
// checks each file replays to the expected verdict.
func TestRecordedFixtures(t *testing.T) {
	sets := []struct {
		dir   string
		cases map[string]ruleCase
		eng   func(t *testing.T) *Engine
	}{
		{"falco-stable", stableCases, func(t *testing.T) *Engine {
			e, err := Load([]string{upstreamFile(t, "falco_rules.yaml")}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}},
		{"ward", wardCases, func(t *testing.T) *Engine { return loadDefaults(t) }},
	}
	for _, set := range sets {
		t.Run(set.dir, func(t *testing.T) {
			for name, rc := range set.cases {
				for _, kind := range []string{"fire", "miss"} {
					sc := event.NewScenario()
					if kind == "fire" {
						rc.fire(sc)
					} else {
						rc.miss(sc)
					}
					path := filepath.Join(fixtureDir, set.dir, slug(name)+"."+kind+".wevt")
					golden(t, path, encode(t, sc.Events))
				}
			}
			eng := set.eng(t)
			for name := range set.cases {
				for _, kind := range []string{"fire", "miss"} {
					data, err := os.ReadFile(filepath.Join(fixtureDir, set.dir, slug(name)+"."+kind+".wevt"))
					if err != nil {
						t.Fatal(err)
					}
					got := run(t, eng, decodeAll(t, data))[name]
					if (kind == "fire") != (got > 0) {
						t.Errorf("%s %s: fired %d times", name, kind, got)
					}
				}
			}
		})
	}
	// demo file for the CLI scripts and docs
	golden(t, filepath.Join(fixtureDir, "demo.wevt"), encode(t, demoScenario().Events))
}

// demoScenario: a compromised web container (reverse shell, miner,
// package install) next to benign host activity.
func demoScenario() *event.Scenario {
	sc := event.NewScenario()
	shim, app := inContainer(sc, alpine(cid))
	_ = shim
	app.Open("/app/config.yaml", event.ORdonly)
	sh := app.Spawn(event.ExecSpec{Exe: "/bin/sh", Args: args("sh", "-c", "sh -i")})
	fd := sh.Socket(event.AFInet, 1)
	sh.Connect(fd, "10.244.1.7", 41000, "198.51.100.7", 9001)
	sh.Dup2(fd, 0)
	sh.Dup2(fd, 1)
	sh.Spawn(event.ExecSpec{Exe: "/sbin/apk", Args: args("apk", "add", "curl")})
	sh.Spawn(event.ExecSpec{Exe: "/tmp/xmrig", Args: args("xmrig", "-o", "stratum+tcp://pool.example:3333")})
	host := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash", UID: event.U32(1000)})
	for i := 0; i < 5; i++ {
		f := host.Open("/home/alice/notes.txt", event.ORdonly)
		host.Read(f, []byte("hello"))
		host.Close(f)
	}
	return sc
}
