package k8s

import "testing"

func TestGroupScope(t *testing.T) {
	cases := []struct {
		groups []string
		want   string
	}{
		{[]string{"*"}, "in every API group"},
		{[]string{"apps", "*"}, "in every API group"},
		{[]string{""}, `in the core API group ("")`},
		{[]string{"apps"}, `in API group "apps"`},
		{[]string{"", "batch"}, `in API groups "" (core), "batch"`},
		{nil, "in no API group (apiGroups is empty)"},
	}
	for _, c := range cases {
		if got := groupScope(c.groups); got != c.want {
			t.Errorf("%q: %q, want %q", c.groups, got, c.want)
		}
	}
}

func TestIsPlaceholder(t *testing.T) {
	for _, v := range []string{"", "changeme", "CHANGE_ME", "change-it", "<password>", "${DB_PASS}", "$(SECRET)", "{{ .Values.x }}", "xxxx", "****", "your-api-key-here", "placeholder", "%PASSWORD%"} {
		if !isPlaceholder(v) {
			t.Errorf("%q: not a placeholder", v)
		}
	}
	for _, v := range []string{"hunter2", "AdminPassword123!", "testpass", "s3cr3t-value", "xxxy", "password1", "admin"} {
		if isPlaceholder(v) {
			t.Errorf("%q: placeholder", v)
		}
	}
}
