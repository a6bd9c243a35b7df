package sensor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/runtime/event"
)

const id64 = "4edf6f359a25933a4d9d17c95488093687ca558245475242a115aa68f47dace1"

func TestContainerFromCgroup(t *testing.T) {
	tests := []struct {
		in            []string
		full, runtime string
	}{
		{[]string{"/libpod_parent/libpod-" + id64}, id64, "podman"},
		{[]string{"", "libpod-" + id64}, id64, "podman"},
		{[]string{"libpod-" + id64 + ".scope"}, id64, "podman"},
		{[]string{"libpod-conmon-" + id64 + ".scope"}, "", ""},
		{[]string{"/system.slice/docker-" + id64 + ".scope"}, id64, "docker"},
		{[]string{"/docker/" + id64}, id64, "docker"},
		{[]string{"/kubepods.slice/kubepods-burstable.slice/cri-containerd-" + id64 + ".scope"}, id64, "containerd"},
		{[]string{"/kubepods/burstable/pod1234/" + id64}, id64, "containerd"},
		{[]string{"/machine.slice/crio-" + id64 + ".scope"}, id64, "cri-o"},
		{[]string{"/user.slice/user-0.slice/session-1.scope"}, "", ""},
		{[]string{"/"}, "", ""},
		{[]string{id64 + "0"}, "", ""}, // 65 hex digits: not an ID
		{[]string{id64}, id64, "docker"},
	}
	for _, tt := range tests {
		full, rt := ContainerFromCgroup(tt.in...)
		if full != tt.full || rt != tt.runtime {
			t.Errorf("ContainerFromCgroup(%q) = %q, %q; want %q, %q", tt.in, full, rt, tt.full, tt.runtime)
		}
	}
	if ShortID(id64) != "4edf6f359a25" {
		t.Errorf("ShortID = %q", ShortID(id64))
	}
}

func writeFile(t *testing.T, root, p, data string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolverPodman(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/lib/containers/storage/overlay-containers/containers.json",
		`[{"id":"`+id64+`","names":["web"],"image":"c489","metadata":"{\"image-name\":\"localhost/ward-bb:1\",\"image-id\":\"c48947d7\",\"name\":\"web\"}"}]`)
	writeFile(t, root, "var/lib/containers/storage/overlay-containers/"+id64+"/userdata/config.json",
		`{"annotations":{"io.podman.annotations.privileged":"TRUE","io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"shop","io.kubernetes.cri-o.Labels":"{\"app\":\"web\"}"}}`)
	r := &Resolver{Root: root}
	c := r.Lookup(id64, "podman")
	if c.ID != id64 || c.Name != "web" || c.Image != "localhost/ward-bb:1" || c.ImageRepo != "localhost/ward-bb" || c.ImageTag != "1" || c.ImageID != "c48947d7" {
		t.Errorf("container = %+v", c)
	}
	if !c.Privileged || c.PodName != "web-0" || c.PodNamespace != "shop" || len(c.PodLabels) != 1 || c.PodLabels[0].Value != "web" {
		t.Errorf("pod/privileged = %+v", c)
	}
	if r.Lookup(id64, "podman") != c {
		t.Error("lookup not cached")
	}
}

func TestResolverDocker(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/lib/docker/containers/"+id64+"/config.v2.json",
		`{"Name":"/api","Image":"sha256:abc","Config":{"Image":"registry.local/api:2.1@sha256:def","Labels":{"io.kubernetes.pod.name":"api-7","tier":"be"}}}`)
	writeFile(t, root, "var/lib/docker/containers/"+id64+"/hostconfig.json", `{"Privileged":false,"NetworkMode":"host","PidMode":"host"}`)
	c := (&Resolver{Root: root}).Lookup(id64, "docker")
	if c.Name != "api" || c.ImageRepo != "registry.local/api" || c.ImageTag != "2.1" || c.ImageDigest != "sha256:def" || !c.HostNetwork || !c.HostPID || c.PodName != "api-7" || len(c.Labels) != 2 {
		t.Errorf("container = %+v", c)
	}
}

func TestResolverUnknownAndHostile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/lib/containers/storage/overlay-containers/containers.json", `{not json`)
	c := (&Resolver{Root: root}).Lookup(id64, "podman")
	if c.ID != id64 || c.Type != "podman" || c.Name != "" {
		t.Errorf("container = %+v", c)
	}
	c = (&Resolver{Root: root}).Lookup(id64, "containerd")
	if c.ID != id64 {
		t.Errorf("container = %+v", c)
	}
}

func FuzzContainerFromCgroup(f *testing.F) {
	f.Add("/libpod_parent/libpod-" + id64)
	f.Add("/kubepods/burstable/pod1/" + id64)
	f.Fuzz(func(t *testing.T, s string) {
		full, rt := ContainerFromCgroup(s)
		if (full == "") != (rt == "") || (full != "" && len(full) != 64) {
			t.Fatalf("ContainerFromCgroup(%q) = %q, %q", s, full, rt)
		}
	})
}

// writeLibpod writes a Podman BoltDB state file with one container config.
func writeLibpod(t testing.TB, root, id, config string) {
	t.Helper()
	p := filepath.Join(root, libpodDB)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		ctr, err := tx.CreateBucketIfNotExists([]byte("ctr"))
		if err != nil {
			return err
		}
		b, err := ctr.CreateBucket([]byte(id))
		if err != nil {
			return err
		}
		return b.Put([]byte("config"), []byte(config))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestResolverPodmanLabels(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "var/lib/containers/storage/overlay-containers/containers.json",
		`[{"id":"`+id64+`","names":["web"],"image":"c489","metadata":"{\"image-name\":\"localhost/ward-bb:1\",\"image-id\":\"c48947d7\",\"name\":\"web\"}"}]`)
	writeLibpod(t, root, id64, `{"name":"web","labels":{"tier":"front","app":"shop"},"privileged":true,"rootfsImageName":"localhost/other:2"}`)
	c := (&Resolver{Root: root}).Lookup(id64, "podman")
	if c.Image != "localhost/ward-bb:1" || !c.Privileged || len(c.Labels) != 2 || c.Labels[0] != (event.KV{Key: "app", Value: "shop"}) || c.Labels[1].Value != "front" {
		t.Errorf("container = %+v", c)
	}
	// Another container: not in the database, so no labels.
	other := strings.Repeat("b", 64)
	if c := (&Resolver{Root: root}).Lookup(other, "podman"); len(c.Labels) != 0 {
		t.Errorf("labels for an unknown container: %+v", c.Labels)
	}
}

func TestResolverLibpodDamaged(t *testing.T) {
	for name, data := range map[string][]byte{
		"garbage":   []byte(strings.Repeat("not a bolt database ", 500)),
		"truncated": nil,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			if data == nil {
				writeLibpod(t, root, id64, `{"labels":{"a":"b"}}`)
				p := filepath.Join(root, libpodDB)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data = b[:len(b)/3]
			}
			writeFile(t, root, libpodDB[1:], string(data))
			if _, err := readLibpod(filepath.Join(root, libpodDB), id64); err == nil {
				t.Error("damaged database: no error")
			}
			c := (&Resolver{Root: root}).Lookup(id64, "podman")
			if c.ID != id64 || len(c.Labels) != 0 {
				t.Errorf("container = %+v", c)
			}
		})
	}
	if _, err := readLibpod(filepath.Join(t.TempDir(), "missing.db"), id64); err == nil {
		t.Error("missing database: no error")
	}
	root := t.TempDir()
	writeLibpod(t, root, id64, `{"labels": not json}`)
	if _, err := readLibpod(filepath.Join(root, libpodDB), id64); err == nil || !strings.Contains(err.Error(), "4edf6f359a25") {
		t.Errorf("bad config JSON: %v", err)
	}
}

// FuzzReadLibpod: any file in place of Podman's database gives an error or
// a configuration, never a crash (bbolt maps the file; faults must become
// errors).
func FuzzReadLibpod(f *testing.F) {
	root := f.TempDir()
	writeLibpod(f, root, id64, `{"name":"web","labels":{"a":"b"}}`)
	good, err := os.ReadFile(filepath.Join(root, libpodDB))
	if err != nil {
		f.Fatal(err)
	}
	// (A truncated database is in TestResolverLibpodDamaged: the fault it
	// causes, turned into a panic, upsets the fuzzing engine's worker.)
	f.Add(good)
	f.Add([]byte("not a database"))
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		// A new file each time: bbolt maps the file, and rewriting a file
		// that is still mapped is not what Podman does.
		n++
		p := filepath.Join(dir, fmt.Sprintf("bolt_state-%d.db", n))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		readLibpod(p, id64)
	})
}
