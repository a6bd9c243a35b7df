// Package helm renders Helm charts for the misconfiguration scanner and
// maps rendered objects back to their template files.
//
// Rendering is behind the Renderer interface; the default build renders in
// process with the Helm library (package helm/helmlib), so no helm
// executable is needed.
package helm

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Template is one rendered template of a chart.
type Template struct {
	// Source is Helm's "# Source:" name, e.g. "mychart/templates/deploy.yaml".
	Source string
	// Content is the rendered YAML (possibly several documents).
	Content []byte
}

// RenderOptions are the user's values.
type RenderOptions struct {
	// ValuesFiles are extra values files (-f), in order.
	ValuesFiles []string
	// Set are --set key=value assignments.
	Set []string
	// Namespace and ReleaseName of the simulated release.
	Namespace, ReleaseName string
}

// Result is a rendered chart.
type Result struct {
	Templates []Template
	// Missing are dependencies declared in Chart.yaml that are neither in
	// charts/ nor disabled by their condition: their templates were not
	// rendered (run helm dependency build).
	Missing []string
	// ReleaseName and Namespace are those of the simulated release.
	ReleaseName, Namespace string
}

// Renderer renders a chart directory or packaged .tgz.
type Renderer interface {
	Render(ctx context.Context, chart string, opts RenderOptions) (*Result, error)
	Name() string
}

// RequiredError is a template's `required` value that is not set.
type RequiredError struct {
	// Template is the template's chart path ("demo/templates/x.yaml").
	Template     string
	Line, Column int
	// Value is the value's path as given to --set ("image.tag"), or ""
	// when the template does not name it as .Values.X.
	Value string
	// Msg is the template's own message.
	Msg string
}

func (e *RequiredError) Error() string {
	at := e.Template
	if e.Line > 0 {
		at += ":" + strconv.Itoa(e.Line)
	}
	if e.Value == "" {
		return fmt.Sprintf("a required value is not set (%s: %s): set it with --set KEY=VALUE or in a --helm-values file", at, e.Msg)
	}
	return fmt.Sprintf("required value %s is not set (%s: %s): set it with --set %s=VALUE or in a --helm-values file", e.Value, at, e.Msg, e.Value)
}

// IsChartDir reports whether dir holds a Chart.yaml.
func IsChartDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && st.Mode().IsRegular()
}

// IsChartArchive reports whether path is a gzipped tar whose first entries
// include <name>/Chart.yaml (a packaged chart). It reads at most a few
// headers.
func IsChartArchive(path string) bool {
	if !strings.HasSuffix(path, ".tgz") && !strings.HasSuffix(path, ".tar.gz") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	gz, err := gzip.NewReader(io.LimitReader(f, 64<<20))
	if err != nil {
		return false
	}
	tr := tar.NewReader(gz)
	for i := 0; i < 64; i++ {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		parts := strings.Split(strings.TrimPrefix(h.Name, "./"), "/")
		if len(parts) == 2 && parts[1] == "Chart.yaml" {
			return true
		}
	}
	return false
}

// SourcePath maps a "# Source:" name to a file path: the chart directory
// joined with the part after the chart name ("mychart/templates/x.yaml" ->
// <chartDir>/templates/x.yaml). For packaged charts the archive path is
// used as the directory.
func SourcePath(chartDir, source string) string {
	if source == "" {
		return chartDir
	}
	_, rest, ok := strings.Cut(source, "/")
	if !ok {
		return filepath.Join(chartDir, source)
	}
	return filepath.Join(chartDir, filepath.FromSlash(rest))
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// Locate finds the line of a field in a template's source text: it walks
// the field path's keys ("spec.template.spec.containers[0].image" ->
// spec, template, spec, containers, image) through the lines in order,
// each key searched after the previous match. It returns the line and
// column of the deepest key found (0 when none is).
func Locate(src []byte, fieldPath string) (line, col int) {
	keys := strings.Split(indexRe.ReplaceAllString(fieldPath, ""), ".")
	lines := strings.Split(string(src), "\n")
	pos := 0
	for _, k := range keys {
		if k == "" {
			continue
		}
		found := false
		for i := pos; i < len(lines); i++ {
			if c := keyColumn(lines[i], k); c > 0 {
				line, col, pos, found = i+1, c, i+1, true
				break
			}
		}
		if !found {
			break
		}
	}
	return line, col
}

// keyColumn returns the 1-based column of `key:` in a YAML line, as a
// mapping key (possibly after "- "), or 0.
func keyColumn(l, key string) int {
	t := strings.TrimLeft(l, " ")
	indent := len(l) - len(t)
	if strings.HasPrefix(t, "- ") {
		t = strings.TrimLeft(t[2:], " ")
		indent = len(l) - len(t)
	}
	for _, q := range []string{key, strconv.Quote(key), "'" + key + "'"} {
		if strings.HasPrefix(t, q+":") {
			return indent + 1
		}
	}
	return 0
}

// CheckLinks refuses a chart directory holding symbolic links that point
// outside it: the Helm loader follows links, so such a chart could make
// Ward read arbitrary files while rendering.
func CheckLinks(dir string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return err
	}
	count := 0
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if count++; count > 100000 {
			return fmt.Errorf("chart %s: more than 100000 files", dir)
		}
		if d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("chart %s: broken link %s", dir, p)
		}
		target, _ = filepath.Abs(target)
		if target != root && !strings.HasPrefix(target, root+string(filepath.Separator)) {
			return fmt.Errorf("chart %s: link %s points outside the chart", dir, p)
		}
		return nil
	})
}
