package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCondition(t *testing.T) {
	var pred any
	if err := json.Unmarshal([]byte(`{"scanner":{"result":{"vulns":[{"severity":"HIGH"},{"severity":"LOW"}]}},"builder":{"id":"https://ci.example/builder"}}`), &pred); err != nil {
		t.Fatal(err)
	}
	subject := []any{map[string]any{"name": "r", "digest": map[string]any{"sha256": "ab"}}}
	tests := []struct {
		expr    string
		want    bool
		wantErr string
	}{
		{expr: `predicate.builder.id == "https://ci.example/builder"`, want: true},
		{expr: `!predicate.scanner.result.vulns.exists(v, v.severity == "CRITICAL")`, want: true},
		{expr: `predicate.scanner.result.vulns.exists(v, v.severity == "HIGH")`, want: true},
		{expr: `predicateType.startsWith("https://cosign")`, want: true},
		{expr: `subject[0].digest.sha256 == "ab"`, want: true},
		{expr: `predicate.builder.id == "other"`, want: false},
		{expr: `predicate.missing.field == 1`, wantErr: "no such key"},
		{expr: `"a"`, wantErr: "want bool"},
		{expr: `predicate.(`, wantErr: "Syntax error"},
	}
	for _, tt := range tests {
		c, err := CompileCondition(tt.expr)
		var got bool
		if err == nil {
			got, err = c.Eval("https://cosign.sigstore.dev/attestation/vuln/v1", pred, subject)
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.expr, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
}

func TestConditionTooLong(t *testing.T) {
	if _, err := CompileCondition(strings.Repeat("a", MaxExpressionLen+1)); err == nil {
		t.Fatal("no error for an over-long expression")
	}
}
