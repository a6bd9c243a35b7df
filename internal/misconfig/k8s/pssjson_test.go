package k8s

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDecodePodPruned requires the pruned pod decode (DecodePod) to give
// the same Pod Security results as decoding every field, on every upstream
// fixture (which set each field the checks read) and on Ward's own
// Kubernetes fixtures, at every policy version.
func TestDecodePodPruned(t *testing.T) {
	var files []string
	root := filepath.Join(psaModuleDir(t), "test", "testdata")
	for _, dir := range []string{root, "testdata"} {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return nil
		})
	}
	pss := map[string]*PSS{}
	for _, v := range []string{"latest", "v1.0", "v1.8", "v1.19", "v1.25"} {
		p, err := NewPSS(v)
		if err != nil {
			t.Fatal(err)
		}
		pss[v] = p
	}
	pods, slow := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, _ := SplitDocuments(f, data, Limits{})
		for _, d := range docs {
			for _, o := range objectsOf(f, d) {
				ps, ok := o.PodSpec()
				if !ok {
					continue
				}
				m1, s1, err1 := decodePod(ps.Meta, ps.Node, 100000, true)
				m2, s2, err2 := decodePod(ps.Meta, ps.Node, 100000, false)
				m3, s3, err3 := decodePodFast(ps.Meta, ps.Node)
				if err2 != nil {
					continue // the full decode refuses it (a fixture of a bad type)
				}
				if err1 != nil {
					t.Fatalf("%s %s: pruned decode fails where the full one works: %v", f, o.Name, err1)
				}
				pods++
				if err3 != nil {
					slow++
				}
				for v, p := range pss {
					r1, r2 := p.Evaluate(m1, s1), p.Evaluate(m2, s2)
					if !reflect.DeepEqual(r1, r2) {
						t.Errorf("%s %s (%s): pruned %+v\nfull %+v", f, o.Name, v, r1, r2)
					}
					if err3 == nil {
						if r3 := p.Evaluate(m3, s3); !reflect.DeepEqual(r3, r2) {
							t.Errorf("%s %s (%s): fast %+v\nfull %+v", f, o.Name, v, r3, r2)
						}
					}
				}
			}
		}
	}
	if pods < 1000 {
		t.Errorf("only %d pods compared", pods)
	}
	if slow > pods/100 {
		t.Errorf("the fast decoder gave up on %d of %d pods", slow, pods)
	}
	t.Logf("%d pods compared, %d through encoding/json", pods, slow)
}

// TestDecodePodOddInput covers what the fast decoder must hand to
// encoding/json (or decode the same way): case-folded keys, merge keys,
// YAML 1.1 booleans, fractional and out-of-range numbers, nulls, wrong
// types and repeated keys.
func TestDecodePodOddInput(t *testing.T) {
	p, err := NewPSS("latest")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		"spec: {HostNetwork: true, containers: [{name: c}]}",
		"spec: {containers: [{name: c, securityContext: {Privileged: true}}]}",
		"spec: {containers: [{name: c, securityContext: {privileged: yes}}]}",
		"spec: {containers: [{name: c, ports: [{containerPort: 80, hostPort: 80.0}]}]}",
		"spec: {containers: [{name: c, ports: [{containerPort: 80, hostPort: 8000000000}]}]}",
		"spec: {containers: [{name: c, securityContext: {runAsUser: 0}}], securityContext: {runAsUser: null, runAsNonRoot: true}}",
		"spec: {containers: [{name: c, securityContext: {capabilities: {add: [NET_ADMIN, 7]}}}]}",
		"spec: {containers: [{name: c, securityContext: {allowPrivilegeEscalation: \"false\"}}]}",
		"spec: {hostPID: true, hostPID: false, containers: [{name: c}]}",
		"x: &sc {privileged: true}\nspec: {containers: [{name: c, securityContext: *sc}]}",
		"x: &sc {privileged: true}\nspec: {containers: [{name: c, securityContext: {<<: *sc, runAsNonRoot: true}}]}",
		"spec: {volumes: [{name: v, hostPath: {path: /}}, {name: w}, {name: e, emptyDir: null}, {name: n, nfs: {server: s, path: /}}], containers: [{name: c}]}",
		"spec: {containers: [{name: c, livenessProbe: {httpGet: {host: evil, port: 80}}, lifecycle: {preStop: {tcpSocket: {host: x, port: 1}}}}]}",
		"metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}}\nspec: {containers: [{name: c}]}",
		"spec: {containers: {name: c}}",
		"spec: {os: {name: windows}, containers: [{name: c, securityContext: {windowsOptions: {hostProcess: true}}}]}",
	} {
		doc := "apiVersion: v1\nkind: Pod\n" + src
		docs, derrs := SplitDocuments("p.yaml", []byte(doc), Limits{})
		if len(derrs) > 0 || len(docs) != 1 {
			t.Fatalf("%s: %v", src, derrs)
		}
		o := objectsOf("p.yaml", docs[0])[0]
		ps, _ := o.PodSpec()
		m1, s1, err1 := DecodePod(ps.Meta, ps.Node, 10000)
		m2, s2, err2 := decodePod(ps.Meta, ps.Node, 10000, false)
		if (err1 != nil) != (err2 != nil) {
			t.Errorf("%s: DecodePod err %v, full decode err %v", src, err1, err2)
			continue
		}
		if err2 != nil {
			continue
		}
		if r1, r2 := p.Evaluate(m1, s1), p.Evaluate(m2, s2); !reflect.DeepEqual(r1, r2) {
			t.Errorf("%s:\nDecodePod %+v\nfull      %+v", src, r1, r2)
		}
	}
}

// FuzzDecodePod requires DecodePod (fast path or pruned encoding/json)
// to give the Pod Security results of the full decode whenever the full
// decode accepts the pod.
func FuzzDecodePod(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec: {hostNetwork: true, containers: [{name: c, securityContext: {privileged: true}}]}"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","spec":{"volumes":[{"name":"v","hostPath":{"path":"/"}}],"containers":[{"name":"c","ports":[{"hostPort":80}]}]}}`))
	p, err := NewPSS("latest")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, derrs := SplitDocuments("p.yaml", b, Limits{})
		if len(derrs) > 0 {
			return
		}
		for _, d := range docs {
			for _, o := range objectsOf("p.yaml", d) {
				ps, ok := o.PodSpec()
				if !ok {
					continue
				}
				m2, s2, err := decodePod(ps.Meta, ps.Node, 10000, false)
				if err != nil {
					continue
				}
				m1, s1, err := DecodePod(ps.Meta, ps.Node, 10000)
				if err != nil {
					t.Fatalf("DecodePod fails where the full decode works: %v", err)
				}
				if r1, r2 := p.Evaluate(m1, s1), p.Evaluate(m2, s2); !reflect.DeepEqual(r1, r2) {
					t.Fatalf("DecodePod %+v\nfull %+v", r1, r2)
				}
			}
		}
	})
}
