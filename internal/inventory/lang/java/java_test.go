package java

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestArchive(t *testing.T) {
	langtest.Run(t, Archive{}, []langtest.Case{
		// Debian's commons-cli jar (pom.properties inside).
		{File: "archive/commons-cli-1.5.0.jar", Path: "app/lib/commons-cli-1.5.0.jar"},
		// Debian's javax.inject jar: OSGi manifest only, version from it.
		{File: "archive/atinject-jsr330-api-1.0.jar", Path: "app/lib/atinject-jsr330-api-1.0.jar"},
		// Made with the JDK's jar tool: WAR with WEB-INF/lib, EAR holding it.
		{File: "archive/sample-web.war", Path: "srv/sample-web.war"},
		{File: "archive/sample-app.ear", Path: "srv/sample-app.ear"},
		{File: "pom/pom.xml", Path: "app/lib/x.jar", WantErr: "app/lib/x.jar: not a zip archive"},
	}, *update)
}

func TestPOM(t *testing.T) {
	langtest.Run(t, POM{}, []langtest.Case{
		{File: "pom/pom.xml"},
		// Debian's maven-repo POM for cdi-api 1.2.
		{File: "pom/cdi-api-1.2.pom", Path: "repo/cdi-api-1.2.pom"},
		{File: "pom/broken-pom.xml", Path: "svc/pom.xml", WantErr: "svc/pom.xml:5: invalid XML"},
	}, *update)
}

func TestGradleLock(t *testing.T) {
	langtest.Run(t, GradleLock{}, []langtest.Case{
		{File: "gradle/gradle.lockfile"},
		{File: "gradle/bad.lockfile", Path: "gradle.lockfile", WantErr: "gradle.lockfile:2: expected group:artifact:version"},
	}, *update)
}

// zipOf builds a zip archive in memory.
func zipOf(t testing.TB, entries map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func extractBytes(a Archive, p string, data []byte) ([]string, error) {
	pkgs, err := a.Extract(context.Background(), &inventory.Input{Path: p, Reader: bytes.NewReader(data), Size: int64(len(data)), Mode: 0o644})
	out := make([]string, len(pkgs))
	for i, pk := range pkgs {
		out[i] = (pk.Path + " " + pk.Name + "@" + pk.Version)
	}
	return out, err
}

func TestArchiveHostile(t *testing.T) {
	props := func(a string) []byte { return []byte("groupId=g\nartifactId=" + a + "\nversion=1.0\n") }
	// Deep nesting: each level wraps the previous one.
	inner := zipOf(t, map[string][]byte{"META-INF/maven/g/l0/pom.properties": props("l0")})
	for i := 1; i <= 6; i++ {
		inner = zipOf(t, map[string][]byte{fmt.Sprintf("lib/l%d.jar", i-1): inner, fmt.Sprintf("META-INF/maven/g/l%d/pom.properties", i): props(fmt.Sprintf("l%d", i))})
	}
	if _, err := extractBytes(Archive{}, "deep.jar", inner); !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "nested deeper than 4") {
		t.Errorf("deep nesting: err = %v", err)
	}
	got, err := extractBytes(Archive{Limits: ArchiveLimits{MaxDepth: 10}}, "deep.jar", inner)
	if err != nil || len(got) != 7 || got[0] != "deep.jar!/lib/l5.jar!/lib/l4.jar!/lib/l3.jar!/lib/l2.jar!/lib/l1.jar!/lib/l0.jar g:l0@1.0" {
		t.Errorf("deep nesting allowed: %v %v", got, err)
	}

	// Zip bomb: a nested jar of 8 MiB of zeros, limits at 1 MiB.
	bomb := zipOf(t, map[string][]byte{"lib/zeros.jar": make([]byte, 8<<20)})
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb not compressed: %d", len(bomb))
	}
	_, err = extractBytes(Archive{Limits: ArchiveLimits{MaxNestedSize: 1 << 20}}, "bomb.war", bomb)
	if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "bomb.war!/lib/zeros.jar") {
		t.Errorf("bomb: err = %v", err)
	}
	_, err = extractBytes(Archive{Limits: ArchiveLimits{MaxInflated: 1 << 20}}, "bomb.war", bomb)
	if !errors.Is(err, ErrArchiveLimit) {
		t.Errorf("bomb total budget: err = %v", err)
	}

	// Forged entry count in the end-of-central-directory record.
	forged := zipOf(t, map[string][]byte{"a.txt": []byte("x")})
	eocd := bytes.LastIndex(forged, []byte("PK\x05\x06"))
	binary.LittleEndian.PutUint16(forged[eocd+10:], 60000)
	if _, err := extractBytes(Archive{}, "forged.jar", forged); err == nil || !strings.Contains(err.Error(), "cannot hold") {
		t.Errorf("forged count: err = %v", err)
	}
	many := map[string][]byte{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("f%d", i)] = nil
	}
	if _, err := extractBytes(Archive{Limits: ArchiveLimits{MaxEntries: 10}}, "many.jar", zipOf(t, many)); !errors.Is(err, ErrArchiveLimit) {
		t.Errorf("entries: err = %v", err)
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		got, want bool
		name      string
	}{
		{Archive{}.Required("a/b.JAR", 0o644), true, "jar upper"},
		{Archive{}.Required("a/b.war", 0o644), true, "war"},
		{Archive{}.Required("a/b.jar", fs.ModeDir), false, "jar dir"},
		{Archive{}.Required("a/b.zip", 0o644), false, "zip"},
		{POM{}.Required("svc/pom.xml", 0o644), true, "pom"},
		{POM{}.Required("root/.m2/repository/a/a-1.pom", 0o644), false, "m2 pom"},
		{GradleLock{}.Required("gradle.lockfile", 0o644), true, "gradle"},
		{GradleLock{}.Required("gradle/dependency-locks/compileClasspath.lockfile", 0o644), true, "old gradle"},
		{GradleLock{}.Required("x/other.lockfile", 0o644), false, "other lockfile"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}

func FuzzArchive(f *testing.F) {
	langtest.Fuzz(f, Archive{Limits: ArchiveLimits{MaxInflated: 8 << 20, MaxNestedSize: 1 << 20}}, "a.jar", 0o644, "archive/sample-web.war", "archive/atinject-jsr330-api-1.0.jar")
}

func FuzzPOM(f *testing.F) {
	langtest.Fuzz(f, POM{}, "pom.xml", 0o644, "pom/pom.xml", "pom/cdi-api-1.2.pom")
}

func FuzzGradleLock(f *testing.F) {
	langtest.Fuzz(f, GradleLock{}, "gradle.lockfile", 0o644, "gradle/gradle.lockfile")
}
