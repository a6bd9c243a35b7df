package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

const seedImage = "registry.example.com/shop/checkout:1.4.2"

// seedReport decodes one seed report.
func seedReport(t *testing.T, file string) report.Report {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestImageDetailPage: the detail of a seeded image shows its digest, OS,
// every layer with its package count, the packages page by page and its
// open vulnerabilities with fixed versions; /images links to it.
func TestImageDetailPage(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	rep := seedReport(t, "testdata/seed/image-checkout.json")
	c := e.login(url.Values{"token": {e.read}}) // the read role may view
	_, body := e.do(c, "GET", "/images", nil)
	detail := "/images/detail?" + url.Values{"target": {seedImage}}.Encode()
	if !strings.Contains(body, `href="`+html.EscapeString(detail)+`"`) {
		t.Fatalf("images page does not link %s", detail)
	}

	resp, body := e.do(c, "GET", detail, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{rep.Artifact.Digest, "container_image", rep.OS.Name, "format=cyclonedx", "format=spdx"} {
		if !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("detail lacks %q", want)
		}
	}
	layers := map[string]int{}
	for _, p := range rep.Packages {
		layers[p.LayerDiffID]++
	}
	if len(layers) != 3 {
		t.Fatalf("seed image has %d layers, want 3", len(layers))
	}
	for id, n := range layers {
		if !strings.Contains(body, `data-layer="`+id+`">`+strconv.Itoa(n)+`<`) {
			t.Errorf("layer %s with %d packages not shown", id, n)
		}
	}
	if got := strings.Count(body, `<td class="wrap pkg">`); got != pageSize {
		t.Errorf("%d packages on page 1, want %d", got, pageSize)
	}
	pages := (len(rep.Packages) + pageSize - 1) / pageSize
	seen := map[string]bool{}
	for p := 1; p <= pages; p++ {
		resp, body := e.do(c, "GET", detail+"&pkgpage="+strconv.Itoa(p), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("package page %d: %d", p, resp.StatusCode)
		}
		for _, m := range strings.Split(body, `<td class="wrap pkg">`)[1:] {
			seen[html.UnescapeString(m[:strings.Index(m, "<")])] = true
		}
		if p < pages && !strings.Contains(body, `rel="next"`) {
			t.Errorf("package page %d has no next link", p)
		}
	}
	for _, p := range rep.Packages {
		if !seen[p.Name] {
			t.Errorf("package %s on no page", p.Name)
		}
	}
	if resp, _ := e.do(c, "GET", detail+"&pkgpage="+strconv.Itoa(pages+1), nil); resp.StatusCode != 404 {
		t.Errorf("package page past the end: %d, want 404", resp.StatusCode)
	}
	if resp, _ := e.do(c, "GET", detail+"&pkgpage=x", nil); resp.StatusCode != 400 {
		t.Errorf("bad package page: %d, want 400", resp.StatusCode)
	}

	open, _, err := e.st.Findings(t.Context(), FindingFilter{Target: seedImage, Kind: "vulnerability", Status: "open", Limit: 1000})
	if err != nil || len(open) == 0 {
		t.Fatalf("seed vulns: %d, %v", len(open), err)
	}
	_, body = e.do(c, "GET", detail, nil)
	fixedShown := false
	for _, fr := range rows(open) {
		v := fr.F.Vulnerability
		if !strings.Contains(body, fmt.Sprintf(`<a href="/findings/%d">%s</a>`, fr.ID, html.EscapeString(v.ID))) {
			t.Errorf("vulnerability %s (finding %d) not listed", v.ID, fr.ID)
		}
		if p := fr.F.Package; p == nil || !strings.Contains(html.UnescapeString(body), `<td class="wrap">`+p.Name+`</td><td class="wrap">`+p.Version+`</td>`) {
			t.Errorf("package and installed version of %s not shown", v.ID)
		}
		if len(v.FixedVersions) > 0 && strings.Contains(body, html.EscapeString(v.FixedVersions[0])) {
			fixedShown = true
		}
	}
	if !fixedShown {
		t.Error("no fixed version shown")
	}
}

// TestImageSBOMDownload: both downloads are attachments of JSON listing
// every stored package, readable back by Ward's SBOM reader.
func TestImageSBOMDownload(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	rep := seedReport(t, "testdata/seed/image-checkout.json")
	var want []string
	for _, p := range rep.Packages {
		want = append(want, p.Name+"@"+p.Version)
	}
	sort.Strings(want)
	c := e.login(url.Values{"token": {e.read}})
	for _, tc := range []struct{ format, media, list string }{
		{"cyclonedx", "application/vnd.cyclonedx+json", "components"},
		{"spdx", "application/spdx+json", "packages"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			resp, body := e.do(c, "GET", "/images/sbom?"+url.Values{"target": {seedImage}, "format": {tc.format}}.Encode(), nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.media {
				t.Fatalf("%d %s\n%.500s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if err != nil || !strings.HasPrefix(params["filename"], "registry.example.com_shop_checkout_1.4.2.") {
				t.Errorf("Content-Disposition %q: %v", resp.Header.Get("Content-Disposition"), err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal([]byte(body), &doc); err != nil || doc[tc.list] == nil {
				t.Fatalf("not %s JSON with %s: %v", tc.format, tc.list, err)
			}
			var items []struct{ Name string }
			if err := json.Unmarshal(doc[tc.list], &items); err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, it := range items {
				names[it.Name] = true
			}
			for _, p := range rep.Packages {
				if !names[p.Name] {
					t.Errorf("package %s missing from the %s document", p.Name, tc.format)
				}
			}
			inv, err := sbom.Read(bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range inv.Packages {
				got = append(got, p.Name+"@"+p.Version)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("read back %d packages, want %d", len(got), len(want))
			}
		})
	}
}

// TestImageDetailMustNot: unknown targets are 404, a missing target or
// format is 400, downloads need a session, a target without inventory
// has no download.
func TestImageDetailMustNot(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.read}})
	for path, code := range map[string]int{
		"/images/detail?target=nope":                                           404,
		"/images/sbom?target=nope&format=cyclonedx":                            404,
		"/images/detail":                                                       400,
		"/images/sbom?format=spdx":                                             400,
		"/images/detail?target=examples%2Fapp":                                 200, // no inventory: the page, without downloads
		"/images/sbom?target=examples%2Fapp&format=spdx":                       404,
		"/images/sbom?target=" + url.QueryEscape(seedImage) + "&format=xml":    400,
		"/images/detail?target=" + url.QueryEscape(seedImage) + "&vcursor=zzz": 400,
	} {
		resp, body := e.do(c, "GET", path, nil)
		if resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, code)
		}
		if strings.Contains(path, "examples%2Fapp") && code == 200 && (strings.Contains(body, "format=spdx") || !strings.Contains(body, "no package inventory stored")) {
			t.Errorf("%s: download offered without an inventory", path)
		}
	}
	anon := e.client()
	resp, _ := e.do(anon, "GET", "/images/sbom?"+url.Values{"target": {seedImage}, "format": {"cyclonedx"}}.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("download without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestImageDetailHostileEscaped: names, packages, advisory IDs and VEX
// reasons from reports are escaped, and the download file name is safe.
func TestImageDetailHostileEscaped(t *testing.T) {
	e := newEnv(t)
	const evil = `<script>alert(1)</script>"'&`
	name := "evil/" + evil + ":1"
	rep := report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: name, Type: imageType, Digest: "sha256:" + evil},
		OS:       &sbom.OS{Family: "Debian", Name: evil, Version: "12"},
		Packages: []sbom.Package{{ID: "p", Name: "pkg" + evil, Version: "1" + evil, LayerDiffID: "sha256:" + evil, Path: evil, Licenses: []string{evil}}},
		Findings: []finding.Finding{{Kind: finding.KindVulnerability, RuleID: "CVE-" + evil, Severity: finding.SeverityHigh, Fingerprint: "fp1",
			Package:       &finding.Package{Name: "pkg" + evil, Version: "1" + evil},
			Vulnerability: &finding.Vulnerability{ID: "CVE-" + evil, FixedVersions: []string{"2" + evil}},
			Suppressed:    &finding.Suppression{Kind: "vex", Reason: "not_affected: " + evil}}},
	}
	raw, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.IngestScan(context.Background(), "evil", &rep, raw); err != nil {
		t.Fatal(err)
	}
	c := e.login(url.Values{"token": {e.read}})
	resp, body := e.do(c, "GET", "/images/detail?"+url.Values{"target": {name}}.Encode(), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "<script>alert") {
		t.Fatal("unescaped markup on the page")
	}
	esc := "&lt;script&gt;alert(1)&lt;/script&gt;"
	for _, want := range []string{"pkg" + esc, "CVE-" + esc, "not_affected: " + esc, "2" + esc} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	_, body = e.do(c, "GET", "/images", nil)
	if strings.Contains(body, "<script>alert") {
		t.Fatal("unescaped markup on the images page")
	}
	resp, _ = e.do(c, "GET", "/images/sbom?"+url.Values{"target": {name}, "format": {"spdx"}}.Encode(), nil)
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if resp.StatusCode != 200 || err != nil || strings.ContainsAny(params["filename"], `<>"'&/ `) {
		t.Errorf("download %d, Content-Disposition %q: %v", resp.StatusCode, resp.Header.Get("Content-Disposition"), err)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com/shop/app:1.2": "registry.example.com_shop_app_1.2",
		"..":                                "sbom",
		"":                                  "sbom",
		"ünï":                               "_n_",
		strings.Repeat("a", 300):            strings.Repeat("a", 100),
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkImageDetail renders the seed image's detail page and its
// CycloneDX download (104 packages, 33 findings) through the handler.
func BenchmarkImageDetail(b *testing.B) {
	st := openStore(b)
	seedReports(b, st)
	h, err := NewStore(st, Options{Refresh: -1})
	if err != nil {
		b.Fatal(err)
	}
	sid, err := st.CreateSession(b.Context(), "bench", "read", DefaultSessionTTL)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{
		"/images/detail?" + url.Values{"target": {seedImage}}.Encode(),
		"/images/sbom?" + url.Values{"target": {seedImage}, "format": {"cyclonedx"}}.Encode(),
	} {
		b.Run(strings.SplitN(path[len("/images/"):], "?", 2)[0], func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d", path, w.Code)
				}
			}
		})
	}
}
