// Package helmlib renders Helm charts in process with the Helm library
// (helm.sh/helm/v3 engine, chart loader and values handling). It is
// linked into the ward binary only when built with -tags helm, because it
// adds about 28 MiB; tests always exercise it.
package helmlib

import (
	"context"
	"fmt"
	"os"
	"path"
	"sort"
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

// Render loads the chart (directory or .tgz), merges values files and
// --set values over the chart's defaults and renders every template.
func (r Renderer) Render(ctx context.Context, chartPath string, opts helm.RenderOptions) ([]helm.Template, error) {
	ch, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", chartPath, err)
	}
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "default"
	}
	name := opts.ReleaseName
	if name == "" {
		name = "release-name"
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s dependencies: %w", chartPath, err)
	}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: name, Namespace: ns, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("chart %s values: %w", chartPath, err)
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", chartPath, err)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ts []helm.Template
	for _, k := range keys {
		base := path.Base(k)
		if strings.HasPrefix(base, "_") || path.Ext(k) == ".txt" || strings.TrimSpace(out[k]) == "" || isTestHook(ch, k) {
			continue
		}
		ts = append(ts, helm.Template{Source: k, Content: []byte(out[k])})
	}
	return ts, nil
}

// isTestHook skips templates under templates/tests (helm test hooks are
// not deployed by install); they are still real manifests, but helm
// template also renders them, so keep them: return false.
func isTestHook(_ *chart.Chart, _ string) bool { return false }
