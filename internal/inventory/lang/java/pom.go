package java

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxPOMSize bounds a pom.xml (16 MiB).
const MaxPOMSize = 16 << 20

// maxXMLDepth bounds element nesting in pom.xml.
const maxXMLDepth = 256

// POM reads pom.xml: the dependencies declared in <dependencies> (of the
// project and of its profiles), with versions taken from the dependency,
// else from <dependencyManagement> in the same file, and ${...}
// properties substituted from <properties> and the project's own
// coordinates. Versions that stay unresolved (defined in a parent POM or
// a BOM outside the file) or that are ranges are reported as Unpinned.
// Dependencies with scope "test" are Dev.
type POM struct{}

// Name implements inventory.Extractor.
func (POM) Name() string { return "java/pom" }

// Version implements inventory.Extractor.
func (POM) Version() int { return 1 }

// Required implements inventory.Extractor.
func (POM) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	b := langutil.Base(path)
	return b == "pom.xml" || (strings.HasSuffix(b, ".pom") && !strings.Contains(path, "/.m2/"))
}

type pomDep struct {
	group, artifact, version, scope string
	line                            int
	managed                         bool
}

var propRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// Extract implements inventory.Extractor.
func (POM) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, MaxPOMSize)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	lines := langutil.NewLines(data)
	var stack []string
	props := map[string]string{}
	var deps []pomDep
	var cur *pomDep
	var text strings.Builder
	for {
		if len(deps)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, langutil.Errorf(in.Path, line, "invalid XML: %v", stripXMLLine(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, langutil.Errorf(in.Path, lines.Line(int(off)), "XML nested deeper than %d elements", maxXMLDepth)
			}
			stack = append(stack, t.Name.Local)
			text.Reset()
			p := strings.Join(stack, "/")
			switch p {
			case "project/dependencies/dependency",
				"project/dependencyManagement/dependencies/dependency",
				"project/profiles/profile/dependencies/dependency":
				deps = append(deps, pomDep{line: lines.Line(int(off)), managed: strings.Contains(p, "dependencyManagement")})
				cur = &deps[len(deps)-1]
			}
		case xml.CharData:
			if text.Len() < 4096 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				break
			}
			val := strings.TrimSpace(text.String())
			text.Reset()
			p := strings.Join(stack, "/")
			switch {
			case cur != nil && len(stack) >= 2 && stack[len(stack)-2] == "dependency":
				switch t.Name.Local {
				case "groupId":
					cur.group = val
				case "artifactId":
					cur.artifact = val
				case "version":
					cur.version = val
				case "scope":
					cur.scope = val
				}
			case t.Name.Local == "dependency":
				cur = nil
			case len(stack) == 3 && stack[1] == "properties":
				props[t.Name.Local] = val
			case p == "project/groupId", p == "project/artifactId", p == "project/version":
				props["project."+t.Name.Local] = val
			case p == "project/parent/groupId", p == "project/parent/version", p == "project/parent/artifactId":
				props["project.parent."+t.Name.Local] = val
			}
			stack = stack[:len(stack)-1]
		}
	}
	if props["project.groupId"] == "" {
		props["project.groupId"] = props["project.parent.groupId"]
	}
	if props["project.version"] == "" {
		props["project.version"] = props["project.parent.version"]
	}
	for _, k := range []string{"groupId", "artifactId", "version"} {
		props["pom."+k] = props["project."+k]
		props[k] = props["project."+k]
	}
	props["parent.version"] = props["project.parent.version"]
	subst := func(s string) string {
		for i := 0; i < 10 && strings.Contains(s, "${"); i++ {
			s = propRef.ReplaceAllStringFunc(s, func(m string) string {
				if v, ok := props[m[2:len(m)-1]]; ok {
					return v
				}
				return m
			})
		}
		return s
	}
	managed := map[string]string{}
	for _, d := range deps {
		if d.managed && d.version != "" {
			managed[subst(d.group)+":"+subst(d.artifact)] = d.version
		}
	}
	var pkgs []sbom.Package
	for _, d := range deps {
		if d.managed {
			continue
		}
		g, a := subst(d.group), subst(d.artifact)
		if !validCoord(g) || !validCoord(a) {
			continue
		}
		v := d.version
		if v == "" {
			v = managed[g+":"+a]
		}
		v = subst(v)
		unpinned := v == "" || strings.Contains(v, "${") || strings.ContainsAny(v, "[](),")
		p := mavenPackage(g, a, v, in.Path, d.line)
		if unpinned {
			p = mavenPackage(g, a, "", in.Path, d.line)
			p.Version = v
			p.Unpinned = true
		}
		p.Direct = true
		p.Dev = d.scope == "test"
		pkgs = append(pkgs, p)
	}
	return langutil.Finish(pkgs), nil
}

// stripXMLLine drops encoding/xml's own "XML syntax error on line N: "
// prefix; the line is reported by langutil.Error.
func stripXMLLine(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return errors.New(se.Msg)
	}
	return err
}
