package db

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// osvServer serves <eco>/all.zip from files with ETag, Last-Modified,
// conditional and Range requests (http.ServeContent), plus injectable
// faults.
type osvServer struct {
	files map[string]string // ecosystem -> file
	mu    sync.Mutex
	// fail503 answers this many requests with 503 first.
	fail503 int
	// cutAfter, when > 0, aborts the next full response after that many
	// bytes (once).
	cutAfter int64
	requests []*http.Request
	ranges   atomic.Int32
	notMod   atomic.Int32
}

func (s *osvServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	fail := s.fail503 > 0
	if fail {
		s.fail503--
	}
	var cut int64
	if !fail {
		cut, s.cutAfter = s.cutAfter, 0
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
	file := s.files[eco]
	if !ok || file == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(file)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	defer f.Close()
	fi, _ := f.Stat()
	w.Header().Set("ETag", `"`+eco+fi.ModTime().Format("150405.000")+`"`)
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
	}
	if cut > 0 && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		w.WriteHeader(http.StatusOK)
		buf := make([]byte, cut)
		n, _ := f.Read(buf)
		w.Write(buf[:n])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	rec := &statusRecorder{ResponseWriter: w}
	http.ServeContent(rec, r, "all.zip", fi.ModTime(), f)
	if rec.status == http.StatusNotModified {
		s.notMod.Add(1)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func TestUpdateRealArchives(t *testing.T) {
	osvDir := sharedOSV(t)
	srv := &osvServer{files: map[string]string{
		"Go":        filepath.Join(osvDir, "Go.zip"),
		"crates.io": filepath.Join(osvDir, "crates.io.zip"),
	}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	ctx := context.Background()
	var progressCalls atomic.Int32
	opts := UpdateOptions{BaseURL: ts.URL, Ecosystems: []string{"Go", "crates.io"}, Backoff: time.Millisecond,
		Progress: func(Progress) { progressCalls.Add(1) }}
	st, res, err := Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Status != "downloaded" || res[1].Status != "downloaded" {
		t.Fatalf("results = %+v", res)
	}
	if st.Ecosystems["Go"] < 4000 || st.Ecosystems["crates.io"] < 1100 || progressCalls.Load() == 0 {
		t.Fatalf("status = %+v (progress %d)", st.Ecosystems, progressCalls.Load())
	}
	for _, s := range st.Sources {
		if s.ETag == "" || !strings.HasPrefix(s.Origin, ts.URL) {
			t.Errorf("source %+v lacks ETag/origin", s)
		}
	}
	// Second run: conditional requests, nothing downloaded, no rebuild.
	st2, res2, err := Update(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res2[0].Status != "not-modified" || res2[1].Status != "not-modified" || srv.notMod.Load() != 2 {
		t.Fatalf("second update results = %+v (304s: %d)", res2, srv.notMod.Load())
	}
	if !st2.Built.Equal(st.Built) {
		t.Error("unchanged archives rebuilt the database")
	}
	// Clean drops what was not fetched.
	st3, _, err := Update(ctx, dir, UpdateOptions{BaseURL: ts.URL, Ecosystems: []string{"crates.io"}, Clean: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(st3.Sources) != 1 || st3.Ecosystems["Go"] != 0 {
		t.Fatalf("clean update status = %+v", st3.Sources)
	}
}

func TestUpdateResumesAndRetries(t *testing.T) {
	src := t.TempDir()
	zipPath := smallZip(t, src, "PyPI", 3000)
	fi, _ := os.Stat(zipPath)
	srv := &osvServer{files: map[string]string{"PyPI": zipPath}, fail503: 2, cutAfter: fi.Size() / 2}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	st, res, err := Update(context.Background(), dir, UpdateOptions{BaseURL: ts.URL, Ecosystems: []string{"PyPI"}, Backoff: time.Millisecond, Attempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "resumed" || srv.ranges.Load() != 1 {
		t.Fatalf("result %+v, range requests %d", res, srv.ranges.Load())
	}
	if st.Advisories != 3000 {
		t.Fatalf("advisories = %d", st.Advisories)
	}
	if res[0].Bytes >= 2*fi.Size() {
		t.Errorf("downloaded %d bytes for a %d byte archive", res[0].Bytes, fi.Size())
	}
}

func TestUpdateFailuresKeepPreviousDB(t *testing.T) {
	src := t.TempDir()
	good := smallZip(t, src, "Go", 10)
	junk := filepath.Join(src, "junk.zip")
	os.WriteFile(junk, []byte(strings.Repeat("this is not a zip archive ", 100)), 0o644)
	srv := &osvServer{files: map[string]string{"Go": good}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	ctx := context.Background()
	before, _, err := Update(ctx, dir, UpdateOptions{BaseURL: ts.URL, Ecosystems: []string{"Go"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		set  func()
		opts UpdateOptions
		msg  string
	}{
		{"corrupt zip", func() { srv.files["Go"] = junk }, UpdateOptions{Ecosystems: []string{"Go"}}, "not a valid zip"},
		{"404", func() {}, UpdateOptions{Ecosystems: []string{"Nope"}}, "404"},
		{"server down", func() { srv.fail503 = 100 }, UpdateOptions{Ecosystems: []string{"Go"}, Attempts: 2, Backoff: time.Millisecond}, "giving up after 2 attempts"},
	}
	for _, c := range cases {
		c.set()
		c.opts.BaseURL = ts.URL
		// Force a fresh download for the corrupt case.
		os.Remove(filepath.Join(dir, "downloads", "Go.json"))
		_, _, err := Update(ctx, dir, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.msg)
		}
		d, err := Open(dir)
		if err != nil {
			t.Fatalf("%s: previous database unusable: %v", c.name, err)
		}
		if st := d.Status(); !st.Built.Equal(before.Built) || st.Advisories != before.Advisories {
			t.Errorf("%s: database changed: %+v", c.name, st)
		}
		d.Close()
		srv.fail503 = 0
	}
}
