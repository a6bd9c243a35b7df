package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/report"
)

// withDigest sets the artifact digest of a test report.
func withDigest(t *testing.T, body []byte, digest string) []byte {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	r.Artifact.Digest = digest
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFindingsByDigest asks the way the admission gate does: the open
// HIGH+ vulnerabilities of an image digest, whatever the image's name.
func TestFindingsByDigest(t *testing.T) {
	e := newEnv(t, nil)
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, withDigest(t, testReport("registry.example/app:1", "a:HIGH", "b:LOW", "c:CRITICAL", "s:HIGH:secret"), d1)))
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, withDigest(t, testReport("registry.example/other:2", "x:CRITICAL"), d2)))
	fps := func(q string) string {
		t.Helper()
		var page struct {
			Items []struct {
				Fingerprint string `json:"fingerprint"`
				Artifact    string `json:"artifact"`
				Status      string `json:"status"`
			} `json:"items"`
		}
		e.must(200, e.do("GET", "/api/v1/findings?"+q, e.read, nil)).json(t, &page)
		var out []string
		for _, it := range page.Items {
			out = append(out, it.Fingerprint)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ q, want string }{
		{"digest=" + d1 + "&kind=vulnerability&status=open&severity=HIGH%2B", "c,a"},
		{"digest=" + d1, "s,c,b,a"},
		{"digest=" + d2 + "&severity=HIGH%2B", "x"},
		{"target=" + d2, "x"},
		{"digest=sha256:" + strings.Repeat("3", 64), ""},
	} {
		if got := fps(c.q); got != c.want {
			t.Errorf("%s: %q, want %q", c.q, got, c.want)
		}
	}
	if a := e.do("GET", "/api/v1/findings?digest=latest", e.read, nil); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "digest") {
		t.Errorf("bad digest: %d %s", a.status, a.body)
	}
}

// TestTargetsByDigest: GET /api/v1/targets?digest= finds an image whose
// scan produced no findings (scanned, clean), answers an empty list for a
// never-scanned digest, and refuses a bad digest and paging parameters.
func TestTargetsByDigest(t *testing.T) {
	e := newEnv(t, nil)
	clean := "sha256:" + strings.Repeat("c", 64)
	dirty := "sha256:" + strings.Repeat("d", 64)
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, withDigest(t, testReport("registry.example/clean:1"), clean)))
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, withDigest(t, testReport("registry.example/app:1", "a:HIGH", "b:LOW"), dirty)))
	get := func(d string) []targetItem {
		t.Helper()
		var page struct {
			Items *[]targetItem `json:"items"`
			Next  *string       `json:"next"`
		}
		e.must(200, e.do("GET", "/api/v1/targets?digest="+d, e.read, nil)).json(t, &page)
		if page.Items == nil || page.Next == nil || *page.Next != "" {
			t.Fatalf("digest %s: page without items or with a next cursor", d)
		}
		return *page.Items
	}
	if ts := get(clean); len(ts) != 1 || ts[0].Name != "registry.example/clean:1" || ts[0].Digest != clean || ts[0].LastScan == nil || ts[0].Open["HIGH"] != 0 {
		t.Errorf("clean image: %+v", ts)
	}
	if ts := get(dirty); len(ts) != 1 || ts[0].Open["HIGH"] != 1 || ts[0].Open["LOW"] != 1 {
		t.Errorf("image with findings: %+v", ts)
	}
	if ts := get(clean); len(ts) != 1 || ts[0].Signature != nil {
		t.Errorf("never checked: signature %+v, want none", ts[0].Signature)
	}
	if err := e.st.SetImageSignature(context.Background(), store.ImageSignature{Digest: dirty, State: store.SignatureVerified,
		Signer: "key sha256:ab", Ref: "registry.example/app@" + dirty}); err != nil {
		t.Fatal(err)
	}
	if ts := get(dirty); len(ts) != 1 || ts[0].Signature == nil || ts[0].Signature.State != "verified" || ts[0].Signature.Signer != "key sha256:ab" {
		t.Errorf("checked image: signature %+v, want verified by key sha256:ab", ts[0].Signature)
	}
	if ts := get("sha256:" + strings.Repeat("e", 64)); len(ts) != 0 {
		t.Errorf("never-scanned digest: %+v", ts)
	}
	for _, q := range []string{"digest=latest", "digest=", "digest=" + clean + "&limit=1", "digest=" + clean + "&type=image", "digest=" + clean + "&cursor=x"} {
		if a := e.do("GET", "/api/v1/targets?"+q, e.read, nil); a.status != http.StatusBadRequest || !strings.Contains(a.errMsg(t), "digest") {
			t.Errorf("%s: %d %s, want 400 naming digest", q, a.status, a.body)
		}
	}
	e.must(401, e.do("GET", "/api/v1/targets?digest="+clean, "", nil))
	e.must(403, e.do("GET", "/api/v1/targets?digest="+clean, e.ing, nil))
}

// TestAlertByID reads one stored alert; unknown ids are 404, bad ones 400.
func TestAlertByID(t *testing.T) {
	e := newEnv(t, nil)
	e.must(200, e.do("POST", "/api/v1/alerts", e.ing, alertBody("node-1", "s1", 0, alertJSON("Terminal shell", 0), alertJSON("Terminal shell", 1))))
	var page struct {
		Items []alertItem `json:"items"`
	}
	e.must(200, e.do("GET", "/api/v1/alerts?limit=1", e.read, nil)).json(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("alerts page %+v", page)
	}
	want := page.Items[0]
	var got alertItem
	e.must(200, e.do("GET", "/api/v1/alerts/"+itoa(want.ID), e.read, nil)).json(t, &got)
	if got.ID != want.ID || got.Seq != 1 || got.Rule != "Terminal shell" || got.Node != "node-1" || !strings.Contains(string(got.Alert), "alert 1") {
		t.Errorf("alert %+v, want %+v", got, want)
	}
	e.must(404, e.do("GET", "/api/v1/alerts/12345", e.read, nil))
	e.must(400, e.do("GET", "/api/v1/alerts/-1", e.read, nil))
	e.must(403, e.do("GET", "/api/v1/alerts/1", e.ing, nil))
}

// TestUnknownQueryParameters: every route refuses parameters it does not
// document, so that a typo never silently widens a query.
func TestUnknownQueryParameters(t *testing.T) {
	e := newEnv(t, nil)
	for _, rt := range e.srv.routes {
		path := strings.ReplaceAll(rt.path, "{id}", "1") + "?sevrity=HIGH"
		a := e.do(rt.method, path, e.admin, []byte("{}"))
		if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "sevrity") {
			t.Errorf("%s %s: %d %s", rt.method, path, a.status, a.body)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
