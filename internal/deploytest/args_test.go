package deploytest

import (
	"strings"
	"testing"
)

// TestArgsMatchCLI runs every ward container's command line from the
// default render against the built binary with --help appended: cobra
// parses every flag first, so a flag the CLI does not know (the chart and
// the commands drifting apart) fails here. A verb that is not built yet
// (another component's work in progress) skips its subtest with the reason.
func TestArgsMatchCLI(t *testing.T) {
	objs := render(t, nil)
	seen := 0
	for _, o := range objs {
		switch o.str("kind") {
		case "Deployment", "DaemonSet", "CronJob":
		default:
			continue
		}
		for _, c := range containers(o) {
			img, _ := c["image"].(string)
			if !strings.HasPrefix(img, "ghcr.io/wardsec/ward:") {
				continue
			}
			args := strs(c["args"])
			seen++
			t.Run(o.id(), func(t *testing.T) {
				_, stderr, code := runWard(t, append(args, "--help")...)
				if strings.Contains(stderr, "unknown command") {
					t.Skipf("ward %s: %s (the verb is not in this build yet)", strings.Join(args, " "), strings.TrimSpace(stderr))
				}
				if code != 0 {
					t.Errorf("ward %s --help: exit %d: %s", strings.Join(args, " "), code, stderr)
				}
			})
		}
	}
	if seen != 4 {
		t.Errorf("%d ward containers checked, want 4 (server, sensor, admission, posture)", seen)
	}
}
