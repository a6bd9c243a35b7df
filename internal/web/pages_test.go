package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

func TestImagesPage(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.read}})
	imgs, _, err := e.st.Targets(t.Context(), imageType, "", 100)
	if err != nil || len(imgs) != 2 {
		t.Fatalf("seed images: %d, %v", len(imgs), err)
	}
	resp, body := e.do(c, "GET", "/images", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("images: %d\n%s", resp.StatusCode, body)
	}
	for _, img := range imgs {
		if !strings.Contains(body, `data-open="`+img.Name+`">`+strconv.Itoa(img.OpenTotal)+`<`) {
			t.Errorf("images page lacks %s with %d open", img.Name, img.OpenTotal)
		}
		if img.Fixable > 0 && !strings.Contains(body, `href="/findings?fixable=yes&amp;target=`+url.QueryEscape(img.Name)+`">`+strconv.Itoa(img.Fixable)+`<`) {
			t.Errorf("images page lacks the fixable drill-down of %s (%d)", img.Name, img.Fixable)
		}
		if c := img.Open["CRITICAL"]; c > 0 && !strings.Contains(body, `href="/findings?severity=CRITICAL&amp;target=`+url.QueryEscape(img.Name)+`">`+strconv.Itoa(c)+`<`) {
			t.Errorf("images page lacks the CRITICAL drill-down of %s", img.Name)
		}
	}
	if strings.Contains(body, "examples/app") {
		t.Error("filesystem target on the images page")
	}
	// The drill-down lists that image's findings only.
	_, body = e.do(c, "GET", "/findings?target="+url.QueryEscape(imgs[0].Name), nil)
	if n := strings.Count(body, `<td class="wrap">`+imgs[0].Name+`</td>`); n != min(imgs[0].OpenTotal, pageSize) || strings.Contains(body, imgs[1].Name) {
		t.Errorf("drill-down to %s: %d rows, want %d", imgs[0].Name, n, imgs[0].OpenTotal)
	}
	_, body = e.do(c, "GET", "/images?type=filesystem", nil)
	if !strings.Contains(body, "examples/app") || strings.Contains(body, imgs[0].Name) {
		t.Error("type=filesystem")
	}
	_, body = e.do(c, "GET", "/images?type=all", nil)
	if !strings.Contains(body, "examples/k8s") || !strings.Contains(body, imgs[0].Name) {
		t.Error("type=all")
	}
	if resp, _ := e.do(c, "GET", "/images?cursor=zzz", nil); resp.StatusCode != 400 {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
}

func TestImagesPagination(t *testing.T) {
	e := newEnv(t)
	for i := range pageSize + 3 {
		ingestFindings(t, e.st, "registry.example.com/img-"+strconv.Itoa(i)+":1", imageType)
	}
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/images", nil)
	m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || strings.Count(body, `data-open="`) != pageSize {
		t.Fatalf("page 1: %d rows, next %v", strings.Count(body, `data-open="`), m)
	}
	_, body = e.do(c, "GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	if n := strings.Count(body, `data-open="`); n != 3 || !strings.Contains(body, "img-0:1") || strings.Contains(body, `rel="next"`) {
		t.Errorf("page 2: %d rows", n)
	}
}

func TestClusterPage(t *testing.T) {
	e := newEnv(t)
	c := e.login(url.Values{"token": {e.read}})
	_, body := e.do(c, "GET", "/cluster", nil)
	if !strings.Contains(body, "No open findings in any Kubernetes namespace") || !strings.Contains(body, "No compliance results stored") {
		t.Error("empty cluster page does not say so")
	}
	seedReports(t, e.st)
	nss, err := e.st.Namespaces(t.Context())
	if err != nil || len(nss) == 0 {
		t.Fatalf("seed namespaces: %v", err)
	}
	comp, err := e.st.Compliance(t.Context())
	if err != nil || len(comp) == 0 {
		t.Fatalf("seed compliance: %v", err)
	}
	_, body = e.do(c, "GET", "/cluster", nil)
	order := regexp.MustCompile(`data-open="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(order) != len(nss) || order[0][1] != "default" {
		t.Errorf("namespaces %v: want %d, riskiest (default) first", order, len(nss))
	}
	for _, n := range nss {
		if !strings.Contains(body, `data-open="`+n.Namespace+`">`+strconv.Itoa(n.Total)+`<`) {
			t.Errorf("cluster page lacks %s = %d", n.Namespace, n.Total)
		}
	}
	for _, cs := range comp {
		if !strings.Contains(body, `data-score="`+cs.Framework+`">`+strconv.FormatFloat(cs.Score, 'f', -1, 64)+`<`) {
			t.Errorf("cluster page lacks %s score %v", cs.Framework, cs.Score)
		}
	}
	_, byName := e.do(c, "GET", "/cluster?sort=name", nil)
	order = regexp.MustCompile(`data-open="([^"]+)"`).FindAllStringSubmatch(byName, -1)
	for i := 1; i < len(order); i++ {
		if order[i-1][1] > order[i][1] {
			t.Errorf("sort=name: %v", order)
		}
	}
}

func TestSensorsStale(t *testing.T) {
	e := newEnvOpts(t, Options{Refresh: -1, StaleAfter: time.Second})
	if err := e.st.Heartbeat(t.Context(), store.Heartbeat{Node: "old-node", SensorID: "s-old", Version: "0.9.0", Events: 5}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // it goes stale
	if err := e.st.Heartbeat(t.Context(), store.Heartbeat{Node: "lossy-node", SensorID: "s-lossy", Version: "1.0.0", Events: 9, Drops: 3}); err != nil {
		t.Fatal(err)
	}
	c := e.login(url.Values{"token": {e.read}})
	for _, p := range []string{"/sensors", "/"} {
		_, body := e.do(c, "GET", p, nil)
		i, j := strings.Index(body, "old-node"), strings.Index(body, "lossy-node")
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s: stale sensor not listed first (%d, %d)", p, i, j)
			continue
		}
		if !strings.Contains(body, `<tr class="stale">`) || !strings.Contains(body, `<span class="bad">stale</span>`) ||
			!strings.Contains(body, `<span class="warn">dropping events</span>`) || !strings.Contains(body, "2 sensors") {
			t.Errorf("%s: stale/lossy marking missing", p)
		}
	}
}

// failing wraps the real store and fails Counts.
type failing struct {
	*store.Store
	err error
}

func (f failing) Counts(context.Context) (Counts, error) { return Counts{}, f.err }

func TestStoreFailureIsLogged500(t *testing.T) {
	st := openStore(t)
	var logs bytes.Buffer
	h, err := New(failing{st, errors.New("disk on fire")}, Options{Refresh: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := st.CreateSession(t.Context(), "x", "read", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 500 || strings.Contains(w.Body.String(), "disk on fire") || !strings.Contains(w.Body.String(), "logged on the server") {
		t.Errorf("status %d, body leaks or lacks the notice:\n%s", w.Code, w.Body.String())
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("error not logged: %s", logs.String())
	}
	if _, err := NewStore(nil, Options{}); err == nil {
		t.Error("NewStore(nil) accepted")
	}
}
