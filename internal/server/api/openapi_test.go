package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wardsec/ward/internal/server/store"
)

type openAPIDocument struct {
	OpenAPI string                                 `json:"openapi"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
}

type openAPIOperation struct {
	OperationID string   `json:"operationId"`
	Roles       []string `json:"x-ward-roles"`
	Security    []any    `json:"security"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDocument {
	t.Helper()
	var d openAPIDocument
	if err := json.Unmarshal(OpenAPI(), &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if d.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", d.OpenAPI)
	}
	return d
}

// TestOpenAPIMatchesRoutes compares the registered routes (method, path,
// roles) with the document's operations, both ways, and checks that the
// mux reaches a handler for every documented operation.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newEnv(t, nil)
	registered := map[string]route{}
	for _, rt := range e.srv.routes {
		registered[strings.ToLower(rt.method)+" "+rt.path] = rt
	}
	documented := map[string]openAPIOperation{}
	ids := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			documented[m+" "+p] = op
			if ids[op.OperationID] || op.OperationID == "" {
				t.Errorf("%s %s: operationId %q empty or repeated", m, p, op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
	for k, rt := range registered {
		op, ok := documented[k]
		if !ok {
			t.Errorf("route %s is not in openapi.json", k)
			continue
		}
		want := append([]string(nil), rt.roles...)
		got := append([]string(nil), op.Roles...)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("%s: roles %v in the code, %v in openapi.json", k, want, got)
		}
		var query []string
		for _, p := range op.Parameters {
			if p.In == "query" {
				query = append(query, p.Name)
			}
		}
		params := append([]string(nil), rt.params...)
		sort.Strings(query)
		sort.Strings(params)
		if strings.Join(query, ",") != strings.Join(params, ",") {
			t.Errorf("%s: query parameters %v in the code, %v in openapi.json", k, params, query)
		}
		if (len(rt.roles) > 0) != (len(op.Security) > 0) {
			t.Errorf("%s: authentication differs between the code and openapi.json", k)
		}
		if len(rt.roles) > 0 {
			for _, st := range []string{"401", "403"} {
				if _, ok := op.Responses[st]; !ok {
					t.Errorf("%s: response %s not documented", k, st)
				}
			}
		}
	}
	for k := range documented {
		if _, ok := registered[k]; !ok {
			t.Errorf("openapi.json documents %s, which no route serves", k)
		}
	}
	// Every documented operation reaches its handler through the mux (not
	// the catch-all 404 or a 405).
	for k := range documented {
		m, p, _ := strings.Cut(k, " ")
		a := e.do(strings.ToUpper(m), strings.ReplaceAll(p, "{id}", "1"), e.admin, []byte("{}"))
		if a.status == 405 || (a.status == 404 && !strings.Contains(p, "{id}")) {
			t.Errorf("%s: the mux answers %d: %s", k, a.status, a.body)
		}
	}
}

// schemaChecker validates answers against the document's response schemas.
type schemaChecker struct {
	t   *testing.T
	doc openAPIDocument
	c   *jsonschema.Compiler
	n   int
}

func newSchemaChecker(t *testing.T) *schemaChecker {
	doc := loadOpenAPI(t)
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenAPI()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("https://ward.invalid/openapi.json", raw); err != nil {
		t.Fatal(err)
	}
	return &schemaChecker{t: t, doc: doc, c: c}
}

// check validates a against the schema documented for method path status.
func (s *schemaChecker) check(method, path string, a answer) {
	s.t.Helper()
	m := strings.ToLower(method)
	op, ok := s.doc.Paths[path][m]
	if !ok {
		s.t.Fatalf("%s %s not documented", method, path)
	}
	st := strconv.Itoa(a.status)
	resp, ok := op.Responses[st]
	if !ok {
		s.t.Errorf("%s %s answered %d, which is not documented: %s", method, path, a.status, a.body)
		return
	}
	if _, ok := resp.Content["application/json"]; !ok {
		if len(resp.Content) == 0 && len(a.body) > 0 {
			s.t.Errorf("%s %s %d: body %q where none is documented", method, path, a.status, a.body)
		}
		return
	}
	ptr := "https://ward.invalid/openapi.json#/paths/" + escapePointer(path) + "/" + m + "/responses/" + st + "/content/application~1json/schema"
	sch, err := s.c.Compile(ptr)
	if err != nil {
		s.t.Fatalf("compile %s: %v", ptr, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(a.body))
	if err != nil {
		s.t.Errorf("%s %s %d: not JSON: %v", method, path, a.status, err)
		return
	}
	if err := sch.Validate(inst); err != nil {
		s.t.Errorf("%s %s %d does not match openapi.json:\n%v\nbody: %.2000s", method, path, a.status, err, a.body)
	}
	s.n++
}

func escapePointer(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
}

// TestOpenAPIResponses fills a store and validates every endpoint's
// answers (success and errors) against the documented schemas.
func TestOpenAPIResponses(t *testing.T) {
	e := newEnv(t, nil)
	sc := newSchemaChecker(t)
	do := func(method, path, tok string, body []byte, hdr ...string) answer {
		a := e.do(method, strings.ReplaceAll(path, "{id}", "1"), tok, body, hdr...)
		p, _, _ := strings.Cut(path, "?")
		if strings.HasPrefix(p, "/api/v1/alerts/") {
			p = "/api/v1/alerts/{id}"
		}
		sc.check(method, p, a)
		return a
	}
	rep := testReport("alpine:3", "a:HIGH", "b:LOW:misconfiguration:prod", "c:CRITICAL:secret")
	do("POST", "/api/v1/scans", e.ing, rep)
	do("POST", "/api/v1/scans", e.ing, rep)
	do("POST", "/api/v1/scans", e.ing, []byte("{"))
	do("POST", "/api/v1/scans", "", rep)
	do("POST", "/api/v1/scans", e.read, rep)
	do("POST", "/api/v1/alerts", e.ing, alertBody("node-1", "s1", 0, alertJSON("r", 0), alertJSON("r", 1)))
	do("POST", "/api/v1/alerts", e.ing, []byte(`{"node":"n"}`))
	do("POST", "/api/v1/heartbeats", e.ing, []byte(`{"node":"node-1","sensor_id":"s1","version":"1","started":"2026-12-07T07:00:00Z"}`))
	do("POST", "/api/v1/heartbeats", e.ing, []byte(`[]`))
	do("GET", "/api/v1/findings", e.read, nil)
	do("GET", "/api/v1/findings?severity=nope", e.read, nil)
	do("GET", "/api/v1/findings/{id}", e.read, nil)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	do("POST", "/api/v1/findings/{id}/suppress", e.admin, []byte(fmt.Sprintf(`{"reason":"accepted","until":%q}`, until)))
	do("GET", "/api/v1/findings", e.read, nil)
	do("POST", "/api/v1/findings/{id}/suppress", e.admin, []byte(`{"reason":""}`))
	do("DELETE", "/api/v1/findings/{id}/suppress", e.admin, nil)
	do("GET", "/api/v1/alerts", e.read, nil)
	do("GET", "/api/v1/alerts?limit=x", e.read, nil)
	do("GET", "/api/v1/alerts/{id}", e.read, nil)
	do("GET", "/api/v1/alerts/999", e.read, nil)
	do("GET", "/api/v1/alerts/x", e.read, nil)
	do("GET", "/api/v1/findings?digest=sha256:"+strings.Repeat("ab", 32)+"&severity=HIGH%2B&status=open&kind=vulnerability", e.read, nil)
	do("GET", "/api/v1/findings?digest=nope", e.read, nil)
	do("GET", "/api/v1/nodes", e.read, nil)
	do("GET", "/api/v1/trends?days=7", e.read, nil)
	do("GET", "/api/v1/trends?days=0", e.read, nil)
	do("GET", "/api/v1/targets", e.read, nil)
	do("GET", "/api/v1/targets?type=container_image&limit=1", e.read, nil)
	do("GET", "/api/v1/targets?digest=sha256:"+strings.Repeat("ab", 32), e.read, nil)
	signed := "sha256:" + strings.Repeat("5", 64)
	do("POST", "/api/v1/scans", e.ing, withDigest(t, testReport("registry.example/signed:1"), signed))
	if err := e.st.SetImageSignature(context.Background(), store.ImageSignature{Digest: signed, State: store.SignatureVerified,
		Signer: "key sha256:ab", Detail: "1 of 1 signature(s) verified (sig-tag)", Ref: "registry.example/signed@" + signed}); err != nil {
		t.Fatal(err)
	}
	do("GET", "/api/v1/targets", e.read, nil)
	do("GET", "/api/v1/targets?digest="+signed, e.read, nil)
	do("GET", "/api/v1/targets?digest=nope", e.read, nil)
	do("GET", "/api/v1/namespaces", e.read, nil)
	do("GET", "/api/v1/compliance", e.read, nil)
	do("GET", "/api/v1/audit", e.admin, nil)
	do("GET", "/api/v1/audit", e.read, nil)
	do("GET", "/api/v1/openapi.json", "", nil)
	do("GET", "/healthz", "", nil)
	do("GET", "/readyz", "", nil)
	if sc.n < 25 {
		t.Errorf("only %d answers validated", sc.n)
	}
}
