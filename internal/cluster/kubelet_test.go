package cluster

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

// TestKubeletFindings judges configz answers as the node proxy returns them
// (the test cluster has no kubelet, so the answers are written here).
func TestKubeletFindings(t *testing.T) {
	hardened := `{"kubeletconfig":{"authentication":{"anonymous":{"enabled":false},"x509":{"clientCAFile":"/etc/kubernetes/pki/ca.crt"}},
		"authorization":{"mode":"Webhook"},"readOnlyPort":0,"streamingConnectionIdleTimeout":"4h0m0s",
		"makeIPTablesUtilChains":true,"rotateCertificates":true}}`
	tests := []struct {
		name    string
		configz string
		want    []string // CIS controls reported
	}{
		{"hardened", hardened, nil},
		{"hardened without optional fields", `{"kubeletconfig":{"authentication":{"anonymous":{"enabled":false},"x509":{"clientCAFile":"/ca"}},"authorization":{"mode":"Webhook"}}}`, nil},
		{"anonymous unset means enabled", `{"kubeletconfig":{"authentication":{"x509":{"clientCAFile":"/ca"}},"authorization":{"mode":"Webhook"}}}`, []string{"4.2.1"}},
		{"wide open", `{"kubeletconfig":{"authentication":{"anonymous":{"enabled":true}},"authorization":{"mode":"AlwaysAllow"},
			"readOnlyPort":10255,"streamingConnectionIdleTimeout":"0","makeIPTablesUtilChains":false,"rotateCertificates":false}}`,
			[]string{"4.2.1", "4.2.10", "4.2.2", "4.2.3", "4.2.4", "4.2.5", "4.2.6"}},
		{"idle timeout 0s", strings.Replace(hardened, `"4h0m0s"`, `"0s"`, 1), []string{"4.2.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cz struct {
				KubeletConfig *kubeletConfig `json:"kubeletconfig"`
			}
			if err := json.Unmarshal([]byte(tt.configz), &cz); err != nil {
				t.Fatal(err)
			}
			s := &scan{target: "test"}
			node := finding.ObjectRef{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "u1"}
			var got []string
			for _, f := range s.kubeletFindings(node, cz.KubeletConfig) {
				if f.RuleID != RuleCPKubeletConfig {
					t.Errorf("rule %s, want %s", f.RuleID, RuleCPKubeletConfig)
				}
				o := f.Location.Object
				if o == nil || o.Kind != "Node" || o.Name != "n1" || o.UID != "u1" || !strings.HasPrefix(o.FieldPath, "configz.kubeletconfig.") {
					t.Errorf("object reference %+v", o)
				}
				// The rule's own tags name the CIS section (k8s-cis:4.2); each
				// finding adds its control, also named in the message.
				_, c, ok := strings.Cut(f.Message, "(CIS ")
				c = strings.TrimSuffix(c, ")")
				if !ok || !hasTag(f.Tags, "k8s-cis:"+c) {
					t.Errorf("finding %q: no CIS control tag in %v", f.Message, f.Tags)
				}
				got = append(got, c)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("controls %v, want %v", got, tt.want)
			}
		})
	}
}

func hasTag(tags []string, want string) bool {
	for _, t := range tags {
		if t == want {
			return true
		}
	}
	return false
}
