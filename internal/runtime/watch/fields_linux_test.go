//go:build linux && amd64

package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	walert "github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/sensor"
)

// TestContainerAlertFields: with Falco's default append_output, an alert
// of the upstream stable rules raised in a real podman container names the
// container (id, name, image repository and tag) in the JSON alert's
// output_fields and in the text line, without any output override.
func TestContainerAlertFields(t *testing.T) {
	image := buildImage(t) // localhost/ward-scenario:test
	p := filepath.Join(sharedDir(t), "data", "falco-rules", "falco_rules.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Falco stable rules absent: %v", err)
	}
	e, err := rules.Load([]string{p}, rules.Options{AppendOutput: rules.ContainerAppendOutput})
	if err != nil {
		t.Fatal(err)
	}
	log := &alertLog{}
	startWatch(t, e, nil, log)
	name := fmt.Sprintf("ward-fields-%d", os.Getpid())
	cid := runContainer(t, image, []string{"--name", name}, []string{"cat", "/etc/shadow"})
	a := waitAlert(log, "Read sensitive file untrusted", cid, 5*time.Second)
	if a == nil {
		t.Fatalf("Read sensitive file untrusted did not fire for container %s", cid[:12])
	}
	short := sensor.ShortID(cid)
	// JSON, as the JSON sink writes it
	var buf bytes.Buffer
	if err := walert.NewJSONSink(&buf).Send(context.Background(), &a.Falco); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Output       string         `json:"output"`
		OutputFields map[string]any `json:"output_fields"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	want := map[string]any{"container.id": short, "container.name": name,
		"container.image.repository": "localhost/ward-scenario", "container.image.tag": "test"}
	for k, v := range want {
		if got.OutputFields[k] != v {
			t.Errorf("output_fields[%q] = %#v, want %q", k, got.OutputFields[k], v)
		}
	}
	// text, as the text sink writes it
	buf.Reset()
	if err := walert.NewTextSink(&buf).Send(context.Background(), &a.Falco); err != nil {
		t.Fatal(err)
	}
	wantText := fmt.Sprintf("container_id=%s container_name=%s container_image_repository=localhost/ward-scenario container_image_tag=test",
		short, name)
	if !strings.Contains(buf.String(), wantText) {
		t.Errorf("text alert %q lacks %q", buf.String(), wantText)
	}
	t.Logf("text: %s", strings.TrimSpace(buf.String()))
}
