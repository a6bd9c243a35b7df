package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
)

type env struct {
	t     *testing.T
	st    *store.Store
	ts    *httptest.Server
	admin string // API tokens by role
	read  string
}

// newEnv serves the dashboard over a real, empty SQLite store with an
// admin, a read and an ingest token and the admin user alice.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOpts(t, Options{Refresh: -1})
}

func newEnvOpts(t *testing.T, opts Options) *env {
	t.Helper()
	st := openStore(t)
	e := &env{t: t, st: st, admin: token(t, st, "admin"), read: token(t, st, "read")}
	if err := st.CreateUser(t.Context(), "alice", "correct horse battery", "admin", "test"); err != nil {
		t.Fatal(err)
	}
	h, err := NewStore(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(h)
	t.Cleanup(e.ts.Close)
	return e
}

// client returns a browser-like client (cookie jar, no redirects followed).
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) do(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// login logs in with the form values and returns the client.
func (e *env) login(form url.Values) *http.Client {
	e.t.Helper()
	c := e.client()
	_, page := e.do(c, "GET", "/login", nil)
	form.Set("csrf", csrfOf(e.t, page))
	resp, body := e.do(c, "POST", "/login", form)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	return c
}

func TestAuthRedirects(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, p := range []string{"/", "/findings?kind=secret", "/findings/1", "/nope"} {
		resp, _ := e.do(c, "GET", p, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s: %d, want 303", p, resp.StatusCode)
			continue
		}
		want := "/login?next=" + url.QueryEscape(p)
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("GET %s: Location %q, want %q", p, got, want)
		}
	}
	resp, _ := e.do(c, "POST", "/findings/1/suppress", url.Values{"reason": {"x"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("POST without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Assets are public; security headers are everywhere.
	resp, body := e.do(c, "GET", "/assets/style.css", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "prefers-color-scheme") {
		t.Errorf("asset: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	ingest := token(t, e.st, "ingest")
	tests := []struct {
		name string
		form url.Values
		code int
		msg  string
	}{
		{"admin token", url.Values{"token": {e.admin}, "next": {"/findings?kind=secret"}}, 303, ""},
		{"user", url.Values{"user": {"alice"}, "password": {"correct horse battery"}}, 303, ""},
		{"bad token", url.Values{"token": {"nope"}}, 401, "Unknown or revoked token."},
		{"bad password", url.Values{"user": {"alice"}, "password": {"wrong"}}, 401, "Wrong user name or password."},
		{"ingest role", url.Values{"token": {ingest}}, 403, "Role ingest cannot use the dashboard"},
		{"empty", url.Values{}, 400, "Enter an API token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client()
			_, page := e.do(c, "GET", "/login", nil)
			tc.form.Set("csrf", csrfOf(t, page))
			resp, body := e.do(c, "POST", "/login", tc.form)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.code, body)
			}
			if tc.msg != "" && !strings.Contains(body, tc.msg) {
				t.Errorf("page lacks %q", tc.msg)
			}
			if tc.code == 303 {
				want := tc.form.Get("next")
				if want == "" {
					want = "/"
				}
				if got := resp.Header.Get("Location"); got != want {
					t.Errorf("Location %q, want %q", got, want)
				}
				var sc *http.Cookie
				for _, ck := range resp.Cookies() {
					if ck.Name == sessionCookie {
						sc = ck
					}
				}
				if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" {
					t.Errorf("session cookie %+v", sc)
				}
			}
		})
	}
	// The login form's CSRF token is checked.
	c := e.client()
	e.do(c, "GET", "/login", nil)
	resp, _ := e.do(c, "POST", "/login", url.Values{"token": {e.admin}, "csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged login CSRF: %d, want 403", resp.StatusCode)
	}
}

func TestLoginLimiter(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	var last int
	for range 11 {
		_, page := e.do(c, "GET", "/login", nil)
		resp, _ := e.do(c, "POST", "/login", url.Values{"user": {"alice"}, "password": {"guess"}, "csrf": {csrfOf(t, page)}})
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("11th failed login: %d, want 429", last)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/findings?kind=secret": "/findings?kind=secret", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "/login": "/", "/x\r\nSet-Cookie: a=b": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	c := e.login(url.Values{"token": {e.read}})
	_, page := e.do(c, "GET", "/", nil)
	u, _ := url.Parse(e.ts.URL)
	var sid string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sid = ck.Value
		}
	}
	if _, _, err := e.st.Session(t.Context(), sid); err != nil {
		t.Fatalf("session %q before logout: %v", sid, err)
	}
	resp, _ := e.do(c, "POST", "/logout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, _, err := e.st.Session(t.Context(), sid); !errors.Is(err, store.ErrUnknownToken) {
		t.Errorf("session after logout: %v, want ErrUnknownToken", err)
	}
	resp, _ = e.do(c, "GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.read}})
	resp, body := e.do(c, "GET", "/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("overview: %d\n%s", resp.StatusCode, body)
	}
	counts, err := e.st.Counts(t.Context())
	if err != nil || counts.Open == 0 {
		t.Fatalf("seed has no open findings: %v", err)
	}
	want := map[string]int{"total": counts.Open}
	for _, s := range severityOrder {
		want[s] = counts.OpenBySeverity[s]
	}
	for k, n := range want {
		if !strings.Contains(body, `data-count="`+k+`">`+strconv.Itoa(n)+`<`) {
			t.Errorf("overview lacks %s = %d", k, n)
		}
	}
	if !strings.Contains(body, `<svg class="chart"`) || strings.Count(body, "<polyline") != len(chartSeverities) {
		t.Error("no trend chart")
	}
	_, body90 := e.do(c, "GET", "/?days=90", nil)
	if !strings.Contains(body90, "last 90 days") {
		t.Error("90-day view missing")
	}
}

func TestFindingsFilterAndPagination(t *testing.T) {
	e := newEnv(t)
	var secrets []finding.Finding
	for i := range 120 {
		secrets = append(secrets, finding.Finding{Kind: finding.KindSecret, RuleID: "aws-access-key-id",
			Severity: finding.SeverityHigh, Title: "AWS key " + strconv.Itoa(i), Fingerprint: strconv.Itoa(i)})
	}
	ingestFindings(t, e.st, "registry.example.com/app:1", "container_image", secrets...)
	ingestFindings(t, e.st, "examples/k8s", "config", finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "K8S-001",
		Severity: finding.SeverityLow, Title: "Low one", Fingerprint: "low"})
	c := e.login(url.Values{"token": {e.read}})
	path := "/findings?kind=secret"
	seen := 0
	for page := 1; path != ""; page++ {
		resp, body := e.do(c, "GET", path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", path, resp.StatusCode, body)
		}
		n := strings.Count(body, `<a href="/findings/`)
		if strings.Contains(body, "Low one") {
			t.Fatal("kind filter let a misconfiguration through")
		}
		if !strings.Contains(body, "Page "+strconv.Itoa(page)+" ·") {
			t.Errorf("page %d not labelled", page)
		}
		seen += n
		m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
		path = ""
		if m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			if !strings.Contains(path, "kind=secret") {
				t.Errorf("next link lost the filter: %s", path)
			}
		}
		if page == 1 && n != pageSize {
			t.Errorf("page 1: %d rows, want %d", n, pageSize)
		}
	}
	if seen != 120 {
		t.Errorf("paged through %d findings, want 120", seen)
	}
	_, body := e.do(c, "GET", "/findings?severity=LOW", nil)
	if !strings.Contains(body, "Low one") || strings.Contains(body, "AWS key") {
		t.Error("severity filter")
	}
	resp, _ := e.do(c, "GET", "/findings?fixable=maybe", nil)
	if resp.StatusCode != 400 {
		t.Errorf("bad fixable: %d, want 400", resp.StatusCode)
	}
	resp, _ = e.do(c, "GET", "/findings?cursor=zzz", nil)
	if resp.StatusCode != 400 {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
	resp, _ = e.do(c, "GET", "/findings/99999", nil)
	if resp.StatusCode != 404 {
		t.Errorf("missing finding: %d, want 404", resp.StatusCode)
	}
}

func TestHostileFindingEscaped(t *testing.T) {
	e := newEnv(t)
	ingestFindings(t, e.st, `<img src=x onerror=alert(1)>`, "container_image", finding.Finding{Kind: finding.KindSecret, RuleID: `rule"><script>alert(2)</script>`,
		Severity: finding.SeverityCritical, Title: `<script>alert("title")</script>`, Message: `</p><script>alert(3)</script>`,
		Remediation: `<b onmouseover=alert(4)>`, References: []string{"javascript:alert(5)"}, Fingerprint: "evil",
		Location: finding.Location{Object: &finding.ObjectRef{Kind: "Pod", Name: "x", Namespace: `<i onclick=alert(6)>`}}})
	items, _, err := e.st.Findings(t.Context(), FindingFilter{Limit: 1})
	if err != nil || len(items) != 1 {
		t.Fatalf("stored hostile finding: %v", err)
	}
	id := items[0].ID
	c := e.login(url.Values{"token": {e.admin}})
	detail := "/findings/" + strconv.FormatInt(id, 10)
	for p, escaped := range map[string]string{"/": "&lt;script&gt;alert(", "/findings": "&lt;script&gt;alert(", detail: "&lt;script&gt;alert(",
		"/images": "&lt;img src=x", "/cluster": "&lt;i onclick"} {
		_, body := e.do(c, "GET", p, nil)
		for _, bad := range []string{"<script>alert", "<img src=x", "<b onmouseover", `href="javascript:`, "<i onclick"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: unescaped %q", p, bad)
			}
		}
		if !strings.Contains(body, escaped) {
			t.Errorf("%s: escaped %q missing", p, escaped)
		}
	}
}

func TestSuppressRolesAndCSRF(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	items, _, _ := e.st.Findings(t.Context(), FindingFilter{Status: "open", Severity: "CRITICAL", Limit: 1})
	if len(items) == 0 {
		t.Fatal("no CRITICAL finding in the seed")
	}
	id := strconv.FormatInt(items[0].ID, 10)

	reader := e.login(url.Values{"token": {e.read}})
	_, page := e.do(reader, "GET", "/findings/"+id, nil)
	if strings.Contains(page, "/suppress") {
		t.Error("read role sees the suppress form")
	}
	resp, _ := e.do(reader, "POST", "/findings/"+id+"/suppress", url.Values{"csrf": {csrfOf(t, page)}, "reason": {"accepted risk"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("read role suppress: %d, want 403", resp.StatusCode)
	}

	admin := e.login(url.Values{"user": {"alice"}, "password": {"correct horse battery"}})
	_, page = e.do(admin, "GET", "/findings/"+id, nil)
	csrf := csrfOf(t, page)
	for name, form := range map[string]url.Values{
		"no token":        {"reason": {"r"}},
		"other's token":   {"reason": {"r"}, "csrf": {csrfToken("someone-else")}},
		"truncated token": {"reason": {"r"}, "csrf": {csrf[:10]}},
	} {
		resp, _ := e.do(admin, "POST", "/findings/"+id+"/suppress", form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/findings/"+id+"/suppress", strings.NewReader(url.Values{"reason": {"r"}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := admin.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin: %v %v", resp, err)
	}
	for name, form := range map[string]url.Values{
		"no reason": {"csrf": {csrf}},
		"bad date":  {"csrf": {csrf}, "reason": {"r"}, "until": {"next week"}},
		"past date": {"csrf": {csrf}, "reason": {"r"}, "until": {"2001-01-01"}},
	} {
		resp, _ := e.do(admin, "POST", "/findings/"+id+"/suppress", form)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
	if st := status(t, e.st, items[0].ID); st != "open" {
		t.Fatalf("refused requests changed the status to %s", st)
	}

	resp, _ = e.do(admin, "POST", "/findings/"+id+"/suppress", url.Values{"csrf": {csrf}, "reason": {"accepted risk: not reachable"}, "until": {"2099-01-31"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suppress: %d", resp.StatusCode)
	}
	if st := status(t, e.st, items[0].ID); st != "suppressed" {
		t.Fatalf("status %s after suppress", st)
	}
	audit, err := e.st.Audit(t.Context(), 1)
	if err != nil || len(audit) != 1 || audit[0].Actor != "alice" || !strings.Contains(audit[0].Action+" "+audit[0].Detail, id) {
		t.Fatalf("audit %+v, %v", audit, err)
	}
	_, open := e.do(admin, "GET", "/findings?severity=CRITICAL", nil)
	if strings.Contains(open, `href="/findings/`+id+`"`) {
		t.Error("suppressed finding still in the open list")
	}
	_, sup := e.do(admin, "GET", "/findings?status=suppressed", nil)
	if !strings.Contains(sup, `href="/findings/`+id+`"`) {
		t.Error("suppressed finding not in the suppressed list")
	}
	_, detail := e.do(admin, "GET", "/findings/"+id+"?done=suppressed", nil)
	if !strings.Contains(detail, "accepted risk: not reachable") || !strings.Contains(detail, "2099-01-31") {
		t.Error("detail lacks the suppression")
	}
	resp, _ = e.do(admin, "POST", "/findings/"+id+"/unsuppress", url.Values{"csrf": {csrf}})
	if st := status(t, e.st, items[0].ID); resp.StatusCode != http.StatusSeeOther || st != "open" {
		t.Errorf("unsuppress: %d %s", resp.StatusCode, st)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{0: 4, 3: 4, 5: 8, 7: 8, 9: 20, 33: 40, 81: 200, 800: 800, 1000: 2000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
	if got := trendSVG(nil); !strings.Contains(string(got), "No scans") {
		t.Errorf("empty chart: %s", got)
	}
}

func TestRuntimePages(t *testing.T) {
	e := newEnv(t)
	ingestAlerts(t, e.st, "fixture-host", "sensor-1", 1, seedAlerts(t))
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/runtime?priority=Critical", nil)
	if !strings.Contains(body, "Ward Reverse Shell Socket Redirect") {
		t.Fatalf("timeline lacks the reverse shell alert:\n%s", body)
	}
	m := regexp.MustCompile(`href="/runtime/alerts/(\d+)">Ward Reverse Shell`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no alert link")
	}
	resp, detail := e.do(c, "GET", "/runtime/alerts/"+m[1], nil)
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d", resp.StatusCode)
	}
	for _, want := range []string{"Process tree", "<strong>sh</strong>", "web (0123456789ab)", "docker.io/library/alpine:3.19", "web-0"} {
		if !strings.Contains(detail, want) {
			t.Errorf("alert detail lacks %q", want)
		}
	}
	if resp, _ := e.do(c, "GET", "/runtime/alerts/999", nil); resp.StatusCode != 404 {
		t.Errorf("missing alert: %d", resp.StatusCode)
	}
	if resp, _ := e.do(c, "GET", "/runtime?since=yesterday", nil); resp.StatusCode != 400 {
		t.Errorf("bad since: %d", resp.StatusCode)
	}
}
