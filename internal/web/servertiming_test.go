package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

// parseServerTiming reads the app metric of a Server-Timing header
// ("app;dur=12.345", milliseconds), as a browser's devtools or an
// outside benchmark would.
func parseServerTiming(h string) (time.Duration, error) {
	for m := range strings.SplitSeq(h, ",") {
		parts := strings.Split(strings.TrimSpace(m), ";")
		if parts[0] != "app" {
			continue
		}
		for _, p := range parts[1:] {
			v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur=")
			if !ok {
				continue
			}
			ms, err := strconv.ParseFloat(v, 64)
			if err != nil || ms < 0 {
				return 0, fmt.Errorf("Server-Timing %q: bad dur", h)
			}
			return time.Duration(ms * float64(time.Millisecond)), nil
		}
		return 0, fmt.Errorf("Server-Timing %q: app has no dur", h)
	}
	return 0, fmt.Errorf("Server-Timing %q: no app metric", h)
}

func TestParseServerTiming(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"app;dur=12.345", 12345 * time.Microsecond},
		{"db;dur=3, app;desc=\"x\";dur=0.500", 500 * time.Microsecond},
	} {
		if got, err := parseServerTiming(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "db;dur=3", "app", "app;dur=", "app;dur=abc", "app;dur=-1"} {
		if got, err := parseServerTiming(bad); err == nil {
			t.Errorf("%q accepted as %v", bad, got)
		}
	}
}

// slowCounts wraps the real store and delays Counts (the overview's
// first query), standing in for a slow store.
type slowCounts struct {
	*store.Store
	delay time.Duration
}

func (s slowCounts) Counts(ctx context.Context) (Counts, error) {
	time.Sleep(s.delay)
	return s.Store.Counts(ctx)
}

// timedGet fetches path and returns the status, the Server-Timing app
// duration and the client's wall time.
func timedGet(e *env, c *http.Client, path string) (int, time.Duration, time.Duration) {
	e.t.Helper()
	start := time.Now()
	resp, _ := e.do(c, "GET", path, nil)
	wall := time.Since(start)
	d, err := parseServerTiming(resp.Header.Get("Server-Timing"))
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, d, wall
}

// TestServerTiming checks that pages, redirects and errors carry a
// parseable Server-Timing that covers the handler's time (a slow store
// shows in it) and never exceeds the client's own wall time.
func TestServerTiming(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	c := e.login(url.Values{"token": {e.admin}})
	for _, p := range []string{"/", "/findings?severity=HIGH%2B", "/images", "/cluster", "/runtime", "/sensors", "/findings/999999"} {
		code, d, wall := timedGet(e, c, p)
		if code != 200 && code != 404 {
			t.Errorf("GET %s: %d", p, code)
		}
		if d <= 0 || d > wall {
			t.Errorf("GET %s: server time %v, client wall time %v", p, d, wall)
		}
	}
	// Not logged in: the redirect to the login page is timed too.
	if code, _, _ := timedGet(e, e.client(), "/findings"); code != http.StatusSeeOther {
		t.Errorf("anonymous /findings: %d", code)
	}

	const delay = 40 * time.Millisecond
	h, err := New(slowCounts{e.st, delay}, Options{Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	slow := *e
	slow.ts = httptest.NewServer(h)
	t.Cleanup(slow.ts.Close)
	sc := slow.login(url.Values{"token": {e.admin}})
	if code, d, wall := timedGet(&slow, sc, "/"); code != 200 || d < delay || d > wall {
		t.Errorf("slow store: %d, server time %v (want ≥ %v), wall %v", code, d, delay, wall)
	}
}
