package helmlib

import (
	"context"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/helm"
)

func TestRender(t *testing.T) {
	ts, err := Renderer{}.Render(context.Background(), "../../testdata/tree/chart", helm.RenderOptions{Set: []string{"image.tag=9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tm := range ts {
		got[tm.Source] = string(tm.Content)
	}
	d := got["demo/templates/deployment.yaml"]
	if !strings.Contains(d, `image: "nginx:9.9"`) || !strings.Contains(d, "name: demo-release-name") {
		t.Errorf("deployment rendered as %q", d)
	}
	if _, ok := got["demo/templates/_helpers.tpl"]; ok {
		t.Error("helpers rendered as a manifest")
	}
	if _, err := (Renderer{}).Render(context.Background(), "../../testdata/tree/chart", helm.RenderOptions{ValuesFiles: []string{"missing.yaml"}}); err == nil {
		t.Error("missing values file accepted")
	}
	if _, err := (Renderer{}).Render(context.Background(), "../../testdata/tree", helm.RenderOptions{}); err == nil {
		t.Error("non-chart accepted")
	}
}
