// Package helm renders Helm charts for the misconfiguration scanner and
// maps rendered objects back to their template files.
//
// Rendering is behind the Renderer interface. The helm library adds about
// 28 MiB to the binary (measured), so the default build renders with the
// user's `helm template` (ExecRenderer) and the in-process library renderer
// (package helm/helmlib) is linked only with `-tags helm`.
package helm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// Renderer renders a chart directory or packaged .tgz.
type Renderer interface {
	Render(ctx context.Context, chart string, opts RenderOptions) ([]Template, error)
	Name() string
}

// ErrNoRenderer is returned when no renderer is available in this build.
var ErrNoRenderer = errors.New("no Helm renderer: install helm or build ward with -tags helm")

// ExecRenderer runs `helm template`.
type ExecRenderer struct {
	// Bin is the helm executable ("helm" on PATH when empty).
	Bin string
	// MaxOutput bounds the rendered output (default 64 MiB).
	MaxOutput int64
}

// Name identifies the renderer.
func (e ExecRenderer) Name() string { return "helm-cli" }

// Available reports whether the helm executable can be found.
func (e ExecRenderer) Available() bool {
	_, err := exec.LookPath(e.bin())
	return err == nil
}

func (e ExecRenderer) bin() string {
	if e.Bin != "" {
		return e.Bin
	}
	return "helm"
}

// Render runs helm template and splits its output by source template.
func (e ExecRenderer) Render(ctx context.Context, chart string, opts RenderOptions) ([]Template, error) {
	if !e.Available() {
		return nil, ErrNoRenderer
	}
	name := opts.ReleaseName
	if name == "" {
		name = "release-name"
	}
	args := []string{"template", name, chart}
	if opts.Namespace != "" {
		args = append(args, "--namespace", opts.Namespace)
	}
	for _, f := range opts.ValuesFiles {
		args = append(args, "--values", f)
	}
	for _, s := range opts.Set {
		args = append(args, "--set", s)
	}
	cmd := exec.CommandContext(ctx, e.bin(), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	max := e.MaxOutput
	if max <= 0 {
		max = 64 << 20
	}
	out := &limitedBuffer{buf: &bytes.Buffer{}, max: max}
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %s: %v: %s", chart, err, strings.TrimSpace(stderr.String()))
	}
	if out.over {
		return nil, fmt.Errorf("helm template %s: output larger than %d bytes", chart, max)
	}
	return SplitSource(out.buf.Bytes()), nil
}

type limitedBuffer struct {
	buf  *bytes.Buffer
	max  int64
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if int64(l.buf.Len()+len(p)) > l.max {
		l.over = true
		return len(p), nil
	}
	return l.buf.Write(p)
}

var sourceRe = regexp.MustCompile(`^# Source: (.+)$`)

// SplitSource splits `helm template` output into templates using the
// "# Source:" comment Helm writes after each document separator.
func SplitSource(out []byte) []Template {
	var ts []Template
	var cur *Template
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := sourceRe.FindStringSubmatch(line); m != nil {
			if cur == nil || cur.Source != m[1] {
				ts = append(ts, Template{Source: m[1]})
				cur = &ts[len(ts)-1]
			} else {
				cur.Content = append(cur.Content, "---\n"...)
			}
			continue
		}
		if line == "---" {
			continue
		}
		if cur == nil {
			ts = append(ts, Template{Source: ""})
			cur = &ts[len(ts)-1]
		}
		cur.Content = append(cur.Content, line...)
		cur.Content = append(cur.Content, '\n')
	}
	return ts
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
