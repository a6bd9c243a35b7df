package db

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is OSV's public bucket of per-ecosystem archives.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are the OSV ecosystems Ward's extractors produce.
func DefaultEcosystems() []string {
	return []string{
		"Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet",
		"Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat",
		"SUSE", "openSUSE", "Wolfi", "Chainguard",
	}
}

// UpdateOptions tune Update.
type UpdateOptions struct {
	// BaseURL serves <BaseURL>/<ecosystem>/all.zip (DefaultBaseURL if empty).
	BaseURL string
	// Ecosystems to fetch (DefaultEcosystems if empty).
	Ecosystems []string
	// Client is the HTTP client (one with a 30 minute timeout if nil).
	Client *http.Client
	// Clean drops sources of the current database not fetched now.
	Clean bool
	// Attempts per archive (4 if zero) and the first retry delay, doubled
	// after each failure (1s if zero).
	Attempts int
	Backoff  time.Duration
	// MaxArchiveSize bounds one download (4 GiB if zero).
	MaxArchiveSize int64
	// Progress, if set, is called as bytes arrive.
	Progress func(Progress)
	Logger   *slog.Logger

	afterAdd func(n int) error
}

// Progress reports a download's advance. Total is -1 when unknown.
type Progress struct {
	Ecosystem   string
	Done, Total int64
}

// FetchResult says what happened to one archive.
type FetchResult struct {
	Ecosystem string `json:"ecosystem"`
	// Status is "downloaded", "resumed" or "not-modified".
	Status string `json:"status"`
	Bytes  int64  `json:"bytes"`
}

// downloadMeta is kept next to each cached archive.
type downloadMeta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Complete     bool      `json:"complete"`
	Fetched      time.Time `json:"fetched"`
}

// httpError is a non-retryable HTTP status.
type httpError struct {
	url    string
	status string
}

func (e *httpError) Error() string { return fmt.Sprintf("GET %s: %s", e.url, e.status) }

// Update downloads each ecosystem's all.zip (conditionally: unchanged
// archives are not downloaded again; interrupted downloads resume with a
// Range request) into <dir>/downloads, then rebuilds the database from
// them and installs it atomically. When every archive is unchanged and
// already in the database, nothing is rebuilt.
func Update(ctx context.Context, dir string, opts UpdateOptions) (Status, []FetchResult, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	if len(opts.Ecosystems) == 0 {
		opts.Ecosystems = DefaultEcosystems()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Minute}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxArchiveSize <= 0 {
		opts.MaxArchiveSize = 4 << 30
	}
	if err := os.MkdirAll(filepath.Join(dir, "downloads"), 0o755); err != nil {
		return Status{}, nil, fmt.Errorf("create database directory: %w", err)
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return Status{}, nil, err
	}
	defer unlock()

	var results []FetchResult
	var sources []source
	var metas []downloadMeta
	for _, eco := range opts.Ecosystems {
		path, meta, res, err := fetch(ctx, dir, eco, &opts)
		if err != nil {
			return Status{}, results, fmt.Errorf("update %s: %w", eco, err)
		}
		results = append(results, res)
		metas = append(metas, meta)
		src := zipSource(path, eco, meta.URL)
		src.status.ETag, src.status.LastModified, src.status.Fetched = meta.ETag, meta.LastModified, meta.Fetched
		sources = append(sources, src)
	}
	if !opts.Clean && upToDate(dir, opts.Ecosystems, results, metas) {
		d, err := Open(dir)
		if err == nil {
			st := d.Status()
			d.Close()
			return st, results, nil
		}
	}
	st, err := rebuildLocked(ctx, dir, sources, buildOptions{clean: opts.Clean, afterAdd: opts.afterAdd})
	return st, results, err
}

// upToDate reports whether nothing was downloaded and the database already
// holds every archive at the same version.
func upToDate(dir string, ecos []string, results []FetchResult, metas []downloadMeta) bool {
	for _, r := range results {
		if r.Status != "not-modified" {
			return false
		}
	}
	d, err := Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	have := map[string]SourceStatus{}
	for _, s := range d.Status().Sources {
		have[s.Name] = s
	}
	for i, eco := range ecos {
		s, ok := have[eco]
		if !ok || s.ETag != metas[i].ETag || s.LastModified != metas[i].LastModified || s.Origin != metas[i].URL {
			return false
		}
	}
	return true
}

func safeName(eco string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, eco)
}

func readMeta(path string) downloadMeta {
	var m downloadMeta
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func writeMeta(path string, m downloadMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fetch brings one archive up to date in the download cache.
func fetch(ctx context.Context, dir, eco string, opts *UpdateOptions) (string, downloadMeta, FetchResult, error) {
	base := filepath.Join(dir, "downloads", safeName(eco))
	zipPath, part, metaPath := base+".zip", base+".zip.part", base+".json"
	u := strings.TrimRight(opts.BaseURL, "/") + "/" + url.PathEscape(eco) + "/all.zip"
	res := FetchResult{Ecosystem: eco}
	var lastErr error
	delay := opts.Backoff
	for attempt := 1; attempt <= opts.Attempts; attempt++ {
		if attempt > 1 {
			if opts.Logger != nil {
				opts.Logger.Info("retrying download", "ecosystem", eco, "attempt", attempt, "err", lastErr)
			}
			select {
			case <-ctx.Done():
				return "", downloadMeta{}, res, ctx.Err()
			case <-time.After(delay):
			}
			delay *= 2
		}
		meta, status, n, err := fetchOnce(ctx, u, eco, zipPath, part, metaPath, opts)
		res.Bytes += n
		if err == nil {
			res.Status = status
			return zipPath, meta, res, nil
		}
		lastErr = err
		var he *httpError
		if errors.As(err, &he) || errors.Is(err, errCorruptArchive) || ctx.Err() != nil {
			return "", downloadMeta{}, res, err
		}
	}
	return "", downloadMeta{}, res, fmt.Errorf("giving up after %d attempts: %w", opts.Attempts, lastErr)
}

var errCorruptArchive = errors.New("downloaded archive is not a valid zip")

func fetchOnce(ctx context.Context, u, eco, zipPath, part, metaPath string, opts *UpdateOptions) (downloadMeta, string, int64, error) {
	meta := readMeta(metaPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return meta, "", 0, &httpError{url: u, status: err.Error()}
	}
	req.Header.Set("User-Agent", "ward-vulndb")
	var partSize int64
	_, zerr := os.Stat(zipPath)
	switch {
	case meta.URL == u && meta.Complete && zerr == nil:
		if meta.ETag != "" {
			req.Header.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", meta.LastModified)
		}
	case meta.URL == u && !meta.Complete && (meta.ETag != "" || meta.LastModified != ""):
		if fi, err := os.Stat(part); err == nil && fi.Size() > 0 {
			partSize = fi.Size()
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", partSize))
			validator := meta.ETag
			if validator == "" {
				validator = meta.LastModified
			}
			req.Header.Set("If-Range", validator)
		}
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		return meta, "", 0, err
	}
	defer resp.Body.Close()
	status := "downloaded"
	var out *os.File
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return meta, "not-modified", 0, nil
	case resp.StatusCode == http.StatusOK:
		out, err = os.Create(part)
		partSize = 0
	case resp.StatusCode == http.StatusPartialContent && partSize > 0:
		if start := contentRangeStart(resp.Header.Get("Content-Range")); start != partSize {
			os.Remove(part)
			return meta, "", 0, fmt.Errorf("server resumed at byte %d, want %d", start, partSize)
		}
		out, err = os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0o644)
		status = "resumed"
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part)
		return meta, "", 0, fmt.Errorf("GET %s: %s (restarting the download)", u, resp.Status)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return meta, "", 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	default:
		return meta, "", 0, &httpError{url: u, status: resp.Status}
	}
	if err != nil {
		return meta, "", 0, err
	}
	// Record the validators before the body so that a killed download
	// resumes only against the same version of the archive.
	if status == "downloaded" {
		meta = downloadMeta{URL: u, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		if err := writeMeta(metaPath, meta); err != nil {
			out.Close()
			return meta, "", 0, err
		}
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = partSize + resp.ContentLength
		if total > opts.MaxArchiveSize {
			out.Close()
			return meta, "", 0, &httpError{url: u, status: fmt.Sprintf("archive of %d bytes exceeds the %d byte limit", total, opts.MaxArchiveSize)}
		}
	}
	pw := &progressWriter{eco: eco, done: partSize, total: total, fn: opts.Progress}
	n, err := io.Copy(io.MultiWriter(out, pw), io.LimitReader(resp.Body, opts.MaxArchiveSize-partSize+1))
	if err == nil && partSize+n > opts.MaxArchiveSize {
		err = &httpError{url: u, status: fmt.Sprintf("archive exceeds the %d byte limit", opts.MaxArchiveSize)}
	}
	if err == nil && total >= 0 && partSize+n != total {
		err = fmt.Errorf("GET %s: short body (%d of %d bytes)", u, partSize+n, total)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return meta, "", n, err
	}
	if zr, zerr := zip.OpenReader(part); zerr != nil {
		os.Remove(part)
		os.Remove(metaPath)
		return meta, "", n, fmt.Errorf("%w: %s: %v", errCorruptArchive, u, zerr)
	} else {
		zr.Close()
	}
	if err := os.Rename(part, zipPath); err != nil {
		return meta, "", n, err
	}
	meta.Complete = true
	meta.Fetched = time.Now().UTC().Truncate(time.Second)
	if err := writeMeta(metaPath, meta); err != nil {
		return meta, "", n, err
	}
	return meta, status, n, nil
}

func contentRangeStart(h string) int64 {
	// "bytes 100-199/200"
	h = strings.TrimPrefix(h, "bytes ")
	start, _, ok := strings.Cut(h, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

type progressWriter struct {
	eco         string
	done, total int64
	last        time.Time
	fn          func(Progress)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil && (time.Since(p.last) > 100*time.Millisecond || p.done == p.total) {
		p.last = time.Now()
		p.fn(Progress{Ecosystem: p.eco, Done: p.done, Total: p.total})
	}
	return len(b), nil
}
