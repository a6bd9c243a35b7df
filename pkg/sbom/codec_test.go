package sbom_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/wardsec/ward/pkg/sbom"
)

func sample() *sbom.Inventory {
	return &sbom.Inventory{
		Target: "registry.example/app:1.0", ArtifactType: "container_image", Digest: "sha256:" + strings.Repeat("ab", 32),
		OS: &sbom.OS{Family: "Debian", Name: "Debian GNU/Linux 12 (bookworm)", Version: "12", Codename: "bookworm"},
		Layers: []sbom.Layer{
			{Index: 0, Digest: "sha256:" + strings.Repeat("01", 32), DiffID: "sha256:" + strings.Repeat("02", 32), CreatedBy: "ADD rootfs.tar /", Size: 1234},
			{Index: 1, Digest: "sha256:" + strings.Repeat("03", 32), DiffID: "sha256:" + strings.Repeat("04", 32), CreatedBy: `RUN apt-get install -y "curl" && echo <ok>`},
		},
		Packages: []sbom.Package{
			{ID: "a1", Name: "libc6", Version: "2.36-9+deb12u4", Ecosystem: "Debian:12", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
				Type: sbom.TypeOS, SourceName: "glibc", SourceVersion: "2.36-9+deb12u4", Arch: "amd64", Licenses: []string{"LGPL-2.1-or-later"},
				Path: "var/lib/dpkg/status", Line: 12, LayerDigest: "sha256:" + strings.Repeat("01", 32), LayerDiffID: "sha256:" + strings.Repeat("02", 32), LayerCreatedBy: "ADD rootfs.tar /"},
			{ID: "b2", Name: "curl", Version: "7.88.1-10", Ecosystem: "Debian:12", PURL: "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12",
				Type: sbom.TypeOS, SourceName: "curl", SourceVersion: "7.88.1-10", Arch: "amd64", Licenses: []string{"curl", "MIT AND BSD-3-Clause", "Some Custom Licence v2"},
				Path: "var/lib/dpkg/status", Line: 40, DependsOn: []string{"a1"}},
			{ID: "c3", Name: "flask", Version: ">=2", Ecosystem: "PyPI", PURL: "pkg:pypi/flask", Type: sbom.TypeLibrary, Path: "app/requirements.txt", Line: 3, Direct: true, Unpinned: true},
			{ID: "e5", Name: "serde", Version: "1.0.200", Ecosystem: "crates.io", PURL: "pkg:cargo/serde@1.0.200", Type: sbom.TypeLibrary, Path: "Cargo.lock", Licenses: []string{"MIT OR Apache-2.0"}},
			{ID: "d4", Name: "pytest", Version: "8.0.0", Ecosystem: "PyPI", PURL: "pkg:pypi/pytest@8.0.0", Type: sbom.TypeLibrary, Path: "app/poetry.lock", Dev: true},
		},
		Relationships: []sbom.Relationship{{From: "b2", To: "a1", Type: sbom.RelDependsOn}},
	}
}

var fixed = sbom.WriteOptions{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Serial: "3e671687-395b-41f5-a30f-a58921a69b79", ToolVersion: "1.0.0"}

func sharedSchemas(t *testing.T) string {
	dir := os.Getenv("WARD_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	dir = filepath.Join(dir, "schemas")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared schemas not found at %s (set WARD_SHARED): %v", dir, err)
	}
	return dir
}

// compile loads every schema file of dir under its $id and compiles main.
func compile(t *testing.T, dir, main string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	var mainID string
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			id = "file:///" + filepath.Base(f)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if filepath.Base(f) == main {
			mainID = id
		}
	}
	s, err := c.Compile(mainID)
	if err != nil {
		t.Fatalf("compile %s: %v", main, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, b []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("schema validation: %v\n%s", err, b)
	}
}

func TestCycloneDXRoundTripAndSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := sbom.WriteCycloneDXOptions(&buf, sample(), fixed); err != nil {
		t.Fatal(err)
	}
	got, err := sbom.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(), got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	for _, want := range []string{`"specVersion": "1.6"`, `"id": "LGPL-2.1-or-later"`, `"name": "MIT AND BSD-3-Clause"`, `"expression": "MIT OR Apache-2.0"`, `"name": "Some Custom Licence v2"`, `"dependsOn": [`, `"ward:layer:1:created_by"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
	validate(t, compile(t, filepath.Join(sharedSchemas(t), "cyclonedx"), "bom-1.6.schema.json"), buf.Bytes())
}

func TestSPDXRoundTripAndSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := sbom.WriteSPDXOptions(&buf, sample(), fixed); err != nil {
		t.Fatal(err)
	}
	got, err := sbom.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(), got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
	for _, want := range []string{`"spdxVersion": "SPDX-2.3"`, `"licenseDeclared": "LGPL-2.1-or-later"`, `"relationshipType": "DEPENDS_ON"`, `"referenceType": "purl"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
	validate(t, compile(t, filepath.Join(sharedSchemas(t), "spdx"), "spdx-2.3-schema.json"), buf.Bytes())
}

func TestEmptyInventoryValid(t *testing.T) {
	inv := &sbom.Inventory{Target: "empty", ArtifactType: "filesystem", Packages: []sbom.Package{}}
	dir := sharedSchemas(t)
	var c, s bytes.Buffer
	sbom.WriteCycloneDXOptions(&c, inv, fixed)
	sbom.WriteSPDXOptions(&s, inv, fixed)
	validate(t, compile(t, filepath.Join(dir, "cyclonedx"), "bom-1.6.schema.json"), c.Bytes())
	validate(t, compile(t, filepath.Join(dir, "spdx"), "spdx-2.3-schema.json"), s.Bytes())
	for _, b := range [][]byte{c.Bytes(), s.Bytes()} {
		got, err := sbom.Read(bytes.NewReader(b))
		if err != nil || cmp.Diff(inv, got) != "" {
			t.Fatalf("%v %s", err, cmp.Diff(inv, got))
		}
	}
}

// Foreign SBOMs (other tools) read with ecosystems derived from PURLs.
func TestReadForeign(t *testing.T) {
	cdx := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
	"metadata":{"component":{"type":"container","name":"alpine:3.20","bom-ref":"root"}},
	"components":[
	 {"type":"operating-system","name":"alpine","version":"3.20.1"},
	 {"bom-ref":"x","type":"library","name":"musl","version":"1.2.5-r0","purl":"pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.1","licenses":[{"license":{"id":"MIT"}}]},
	 {"bom-ref":"y","type":"library","name":"requests","version":"2.31.0","purl":"pkg:pypi/requests@2.31.0",
	  "components":[{"bom-ref":"z","type":"library","name":"urllib3","version":"2.0.0","purl":"pkg:pypi/urllib3@2.0.0"}]}],
	"dependencies":[{"ref":"y","dependsOn":["z","missing"]}]}`
	inv, err := sbom.Read(strings.NewReader(cdx))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Target != "alpine:3.20" || inv.OS == nil || inv.OS.Version != "3.20.1" || len(inv.Packages) != 3 {
		t.Fatalf("%+v", inv)
	}
	if p := inv.Packages[0]; p.Ecosystem != "Alpine:v3.20" || p.Type != sbom.TypeOS || p.Licenses[0] != "MIT" {
		t.Fatalf("%+v", p)
	}
	if inv.Packages[2].Ecosystem != "PyPI" || len(inv.Relationships) != 1 {
		t.Fatalf("%+v %+v", inv.Packages[2], inv.Relationships)
	}
	spdx := `{"spdxVersion":"SPDX-2.2","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app","documentNamespace":"x",
	"creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: other"]},
	"packages":[{"SPDXID":"SPDXRef-root","name":"app","downloadLocation":"NOASSERTION"},
	 {"SPDXID":"SPDXRef-1","name":"openssl","versionInfo":"3.0.11-1","downloadLocation":"NOASSERTION","licenseDeclared":"Apache-2.0",
	  "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/openssl@3.0.11-1?distro=debian-12.5"}]},
	 {"SPDXID":"SPDXRef-2","name":"lodash","versionInfo":"4.17.20","downloadLocation":"NOASSERTION",
	  "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/lodash@4.17.20"}]}],
	"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-root"},
	 {"spdxElementId":"SPDXRef-1","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-2"}]}`
	inv, err = sbom.Read(strings.NewReader(spdx))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 2 || inv.Packages[0].Ecosystem != "Debian:12" || inv.Packages[1].Ecosystem != "npm" || inv.Packages[0].Licenses[0] != "Apache-2.0" {
		t.Fatalf("%+v", inv.Packages)
	}
	if len(inv.Relationships) != 1 || inv.Relationships[0].From != "SPDXRef-2" {
		t.Fatalf("%+v", inv.Relationships)
	}
}

func TestReadErrors(t *testing.T) {
	for in, want := range map[string]string{
		"": "not JSON",
		"{\n  \"bomFormat\": \"CycloneDX\",\n  \"components\": 5\n}": "3:",
		`{"hello":"world"}`: "neither CycloneDX",
		"{\n\"spdxVersion\": \"SPDX-2.3\",\n\"packages\": [1]}": "spdx",
		"[1,2": "not JSON",
	} {
		_, err := sbom.Read(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

func TestEcosystemFromPURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:deb/ubuntu/openssl@3.0.2?distro=ubuntu-22.04":            "Ubuntu:22.04",
		"pkg:rpm/almalinux/bash@5.1?arch=x86_64&distro=almalinux-9.4": "AlmaLinux:9",
		"pkg:rpm/redhat/bash@5.1":                                     "Red Hat",
		"pkg:golang/github.com/x/y@v1.0.0":                            "Go",
		"pkg:cargo/serde@1.0.0":                                       "crates.io",
		"pkg:maven/org.apache/commons@1.0":                            "Maven",
		"pkg:apk/wolfi/glibc@2.39":                                    "Wolfi",
		"not a purl":                                                  "",
	} {
		if got := sbom.EcosystemFromPURL(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// TestSPDXIDsAreOfficial checks the built-in licence list against the SPDX
// list shipped with the CycloneDX schema.
func TestSPDXIDsAreOfficial(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedSchemas(t), "cyclonedx", "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Enum []string }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	official := map[string]bool{}
	for _, id := range s.Enum {
		official[id] = true
	}
	inv := sample()
	inv.Packages = inv.Packages[:1]
	for _, id := range sbom.KnownSPDXIDs() {
		if !official[id] {
			t.Errorf("%s is not an SPDX identifier", id)
		}
	}
}

func FuzzRead(f *testing.F) {
	var c, s bytes.Buffer
	sbom.WriteCycloneDXOptions(&c, sample(), fixed)
	sbom.WriteSPDXOptions(&s, sample(), fixed)
	f.Add(c.Bytes())
	f.Add(s.Bytes())
	f.Add([]byte(`{"bomFormat":"CycloneDX","metadata":{"component":{"name":"x","properties":[{"name":"ward:layer:99999999999:digest","value":"x"}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := sbom.Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever was read can be written again.
		var out bytes.Buffer
		if err := sbom.WriteCycloneDX(&out, inv); err != nil {
			t.Fatal(err)
		}
		if err := sbom.WriteSPDX(&out, inv); err != nil {
			t.Fatal(err)
		}
	})
}
