// Package helmlib renders Helm charts in process with the Helm library
// (helm.sh/helm/v3 engine, chart loader and values handling); it is the
// default build's renderer.
package helmlib

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/wardsec/ward/internal/misconfig/helm"
)

// Renderer renders with the Helm library. It never contacts a cluster:
// `lookup` returns empty results as in `helm template`.
type Renderer struct {
	// MaxValuesBytes bounds each values file (default 8 MiB).
	MaxValuesBytes int64
}

// Name identifies the renderer.
func (Renderer) Name() string { return "helm-library" }

// DefaultReleaseName is the release name when neither the options nor a
// valid chart name give one (Helm's own `helm template` default).
const DefaultReleaseName = "release-name"

// Render loads the chart (directory or .tgz), merges values files and
// --set values over the chart's defaults and renders every template.
//
// The release is named after the chart (when that is a valid release
// name) and lands in a namespace named after the release, as
// `helm install NAME CHART -n NAME --create-namespace` does: never in
// "default". Declared dependencies missing from charts/ are listed in
// Result.Missing and the rest of the chart is rendered.
func (r Renderer) Render(ctx context.Context, chartPath string, opts helm.RenderOptions) (*helm.Result, error) {
	ch, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", chartPath, err)
	}
	vals, err := r.userValues(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := opts.ReleaseName
	if name == "" {
		name = ch.Name()
		if chartutil.ValidateReleaseName(name) != nil {
			name = DefaultReleaseName
		}
	}
	ns := opts.Namespace
	if ns == "" {
		ns = name
	}
	res := &helm.Result{ReleaseName: name, Namespace: ns, Missing: missingDependencies(ch, vals)}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s dependencies: %w", chartPath, err)
	}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: name, Namespace: ns, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("chart %s values: %w", chartPath, err)
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		if re := requiredError(ch, err); re != nil {
			return nil, re
		}
		return nil, fmt.Errorf("render chart %s: %w", chartPath, err)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(path.Base(k), "_") || path.Ext(k) == ".txt" || strings.TrimSpace(out[k]) == "" {
			continue
		}
		res.Templates = append(res.Templates, helm.Template{Source: k, Content: []byte(out[k])})
	}
	return res, nil
}

// userValues merges the values files (in order) and the --set values.
func (r Renderer) userValues(opts helm.RenderOptions) (map[string]any, error) {
	vals := map[string]any{}
	max := r.MaxValuesBytes
	if max <= 0 {
		max = 8 << 20
	}
	for _, f := range opts.ValuesFiles {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("values file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("values file %s: not a regular file", f)
		}
		if st.Size() > max {
			return nil, fmt.Errorf("values file %s: larger than %d bytes", f, max)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values file: %w", err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		vals = chartutil.MergeTables(m, vals)
	}
	for _, s := range opts.Set {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("--set %q: %w", s, err)
		}
	}
	return vals, nil
}

// missingDependencies lists the dependencies of Chart.yaml (recursively,
// as "parent > child" below the top level) that were not loaded from
// charts/, except those their condition disables with the given values.
func missingDependencies(ch *chart.Chart, vals map[string]any) []string {
	merged, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		merged = vals
	}
	var out []string
	var walk func(c *chart.Chart, prefix string, v chartutil.Values)
	walk = func(c *chart.Chart, prefix string, v chartutil.Values) {
		loaded := map[string]*chart.Chart{}
		for _, d := range c.Dependencies() {
			loaded[d.Name()] = d
		}
		if c.Metadata == nil {
			return
		}
		for _, d := range c.Metadata.Dependencies {
			if d == nil {
				continue
			}
			sub, ok := loaded[d.Name]
			if !ok {
				if !disabled(d, v) {
					out = append(out, prefix+d.Name)
				}
				continue
			}
			key := d.Name
			if d.Alias != "" {
				key = d.Alias
			}
			sv, _ := v.Table(key)
			walk(sub, prefix+d.Name+" > ", sv)
		}
	}
	walk(ch, "", merged)
	return out
}

// disabled reports whether the dependency's condition (the first of its
// comma-separated paths that holds a bool) is false.
func disabled(d *chart.Dependency, v chartutil.Values) bool {
	for _, c := range strings.Split(d.Condition, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if b, ok := pathValue(v, c).(bool); ok {
			return !b
		}
	}
	return false
}

func pathValue(v chartutil.Values, p string) any {
	var cur any = map[string]any(v)
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			if vm, ok2 := cur.(chartutil.Values); ok2 {
				m = vm
			} else {
				return nil
			}
		}
		cur = m[k]
	}
	return cur
}

// execErr matches the engine's message for a failed template function:
// "execution error at (demo/templates/x.yaml:14:20): message".
var execErr = regexp.MustCompile(`^execution error at \(([^:()]+):(\d+)(?::(\d+))?\): (.*)$`)

// valuesRef matches a .Values reference in a template action.
var valuesRef = regexp.MustCompile(`\.Values((?:\.[A-Za-z0-9_-]+)+)`)

// requiredError turns the engine's error for an unset `required` value
// into a RequiredError naming the value (read from the template's source
// at the error's position), or returns nil for any other error.
func requiredError(ch *chart.Chart, err error) *helm.RequiredError {
	var msg string
	for e := err; e != nil; e = errors.Unwrap(e) {
		msg = e.Error()
	}
	m := execErr.FindStringSubmatch(strings.TrimSpace(err.Error()))
	if m == nil {
		m = execErr.FindStringSubmatch(strings.TrimSpace(msg))
	}
	if m == nil {
		return nilValueError(err)
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	action := actionAt(templateSource(ch, m[1]), line, col)
	if !strings.Contains(action, "required") {
		return nil // a `fail` or another function's error
	}
	re := &helm.RequiredError{Template: m[1], Line: line, Column: col, Msg: m[4]}
	if v := valuesRef.FindStringSubmatch(action); v != nil {
		re.Value = subchartPrefix(m[1]) + strings.TrimPrefix(v[1], ".")
	}
	return re
}

// nilErr matches text/template's error for a field of a missing map:
// "template: demo/templates/x.yaml:6:56: executing "..." at
// <.Values.db.host>: nil pointer evaluating interface {}.host".
var nilErr = regexp.MustCompile(`template: ([^:()]+):(\d+):(\d+): executing "[^"]*" at <\.Values((?:\.[A-Za-z0-9_-]+)+)>: nil pointer evaluating`)

// nilValueError turns a nil-pointer error on a .Values path into a
// RequiredError naming the value (its parent is not set), else nil.
func nilValueError(err error) *helm.RequiredError {
	m := nilErr.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	v := subchartPrefix(m[1]) + strings.TrimPrefix(m[4], ".")
	parent := v
	if i := strings.LastIndexByte(v, '.'); i > 0 {
		parent = v[:i]
	}
	return &helm.RequiredError{Template: m[1], Line: line, Column: col, Value: v, Msg: "the template reads " + v + " but " + parent + " is not set"}
}

// templateSource returns the source of a template by its chart path
// ("demo/charts/sub/templates/x.yaml"), searching the dependencies.
func templateSource(c *chart.Chart, full string) []byte {
	prefix := c.ChartFullPath() + "/"
	if !strings.HasPrefix(full, prefix) {
		return nil
	}
	for _, t := range c.Templates {
		if t != nil && prefix+t.Name == full {
			return t.Data
		}
	}
	for _, d := range c.Dependencies() {
		if b := templateSource(d, full); b != nil {
			return b
		}
	}
	return nil
}

// actionAt returns the text of the {{ ... }} action around line:col
// (1-based; col 0 means the first action of the line that calls
// required).
func actionAt(src []byte, line, col int) string {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := lines[line-1]
	if col <= 0 || col > len(l) {
		if i := strings.Index(l, "required"); i >= 0 {
			col = i + 1
		} else {
			return l
		}
	}
	start := strings.LastIndex(l[:col], "{{")
	if start < 0 {
		start = 0
	}
	end := strings.Index(l[start:], "}}")
	if end < 0 {
		return l[start:]
	}
	return l[start : start+end+2]
}

// subchartPrefix returns the value prefix of a subchart's template
// ("demo/charts/db/templates/x.yaml" -> "db.").
func subchartPrefix(full string) string {
	parts := strings.Split(full, "/")
	var b strings.Builder
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "charts" && i > 0 {
			b.WriteString(parts[i+1] + ".")
		}
	}
	return b.String()
}
