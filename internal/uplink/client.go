// Package uplink is Ward's client of the Ward server: report upload
// (POST /api/v1/scans with an idempotency key), and alert streaming for
// sensors through an on-disk spool (POST /api/v1/alerts in ordered
// batches numbered by (sensor_id, seq)) with heartbeats.
package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/retry"
)

// Config says how to reach the server.
type Config struct {
	// URL is the server's base URL (http or https).
	URL string
	// Token is the bearer token.
	Token string
	// CAFile, if set, is a PEM bundle trusted for the server's certificate.
	CAFile string
	// Attempts bounds tries per request (default 5); Backoff is the first
	// wait (default 500ms), doubled each time with jitter, at most 30s.
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
	Logger   *slog.Logger
}

// Client talks to a Ward server.
type Client struct {
	base     *url.URL
	token    string
	hc       *http.Client
	attempts int
	backoff  time.Duration
	log      *slog.Logger
	// sleep waits between attempts (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error
}

// StatusError is a non-2xx answer.
type StatusError struct {
	URL    string
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether the answer may succeed later (408, 429, 5xx).
func (e *StatusError) Retryable() bool {
	return e.Status == 408 || e.Status == 429 || e.Status >= 500
}

// New builds a client.
func New(c Config) (*Client, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http(s)://host[:port]", c.URL)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("server CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server CA %s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	cl := &Client{base: u, token: c.Token, hc: &http.Client{Transport: t, Timeout: c.Timeout},
		attempts: c.Attempts, backoff: c.Backoff, log: c.Logger, sleep: retry.Sleep}
	if cl.hc.Timeout <= 0 {
		cl.hc.Timeout = 5 * time.Minute
	}
	if cl.attempts <= 0 {
		cl.attempts = 5
	}
	if cl.backoff <= 0 {
		cl.backoff = 500 * time.Millisecond
	}
	if cl.log == nil {
		cl.log = slog.New(slog.DiscardHandler)
	}
	return cl, nil
}

func (c *Client) endpoint(p string) string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	return u.String()
}

// do POSTs the body that open returns (called again on every attempt)
// and retries network errors and retryable statuses with backoff.
func (c *Client) do(ctx context.Context, path string, open func() (io.ReadCloser, int64, error), hdr map[string]string, out any) (int, error) {
	u := c.endpoint(path)
	b := retry.NewBackoff(c.backoff, 30*time.Second)
	var last error
	for attempt := 0; attempt < c.attempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, b.Next()); err != nil {
				return 0, fmt.Errorf("%s: %w (last error: %w)", u, err, last)
			}
		}
		body, size, err := open()
		if err != nil {
			return 0, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
		if err != nil {
			body.Close()
			return 0, fmt.Errorf("%s: %w", u, err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "ward-uplink")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, fmt.Errorf("POST %s: %w", u, ctx.Err())
			}
			last = fmt.Errorf("POST %s: %w", u, err)
			c.log.Warn("server request failed", "url", u, "attempt", attempt+1, "err", err)
			continue
		}
		rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out != nil && resp.StatusCode != http.StatusNoContent {
				if err := json.Unmarshal(rb, out); err != nil {
					return resp.StatusCode, fmt.Errorf("POST %s: bad answer: %w", u, err)
				}
			}
			return resp.StatusCode, nil
		}
		se := &StatusError{URL: "POST " + u, Status: resp.StatusCode, Body: strings.TrimSpace(string(trunc(rb, 300)))}
		if !se.Retryable() {
			return resp.StatusCode, se
		}
		last = se
		c.log.Warn("server request failed", "url", u, "attempt", attempt+1, "status", resp.StatusCode)
	}
	return 0, fmt.Errorf("giving up after %d attempts: %w", c.attempts, last)
}

func trunc(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// ScanResult is the server's answer to a report upload.
type ScanResult struct {
	ScanID   string `json:"scan_id"`
	Findings int    `json:"findings"`
	New      int    `json:"new"`
	Fixed    int    `json:"fixed"`
	// Duplicate is set when the server already had this upload (200).
	Duplicate bool `json:"-"`
}

// UploadReportFile uploads the JSON report in file, streamed from disk,
// with Idempotency-Key = key or, when empty, the hex sha256 of the file.
func (c *Client) UploadReportFile(ctx context.Context, file, key string) (*ScanResult, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("report upload: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("report upload: %w", err)
	}
	if key == "" {
		key = hex.EncodeToString(h.Sum(nil))
	}
	open := func() (io.ReadCloser, int64, error) {
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, fmt.Errorf("report upload: %w", err)
		}
		return f, size, nil
	}
	var res ScanResult
	st, err := c.do(ctx, "/api/v1/scans", open, map[string]string{"Idempotency-Key": key}, &res)
	if err != nil {
		return nil, err
	}
	res.Duplicate = st == http.StatusOK
	return &res, nil
}

// UploadReport uploads an in-memory JSON report.
func (c *Client) UploadReport(ctx context.Context, body []byte, key string) (*ScanResult, error) {
	if key == "" {
		sum := sha256.Sum256(body)
		key = hex.EncodeToString(sum[:])
	}
	var res ScanResult
	st, err := c.do(ctx, "/api/v1/scans", bytesBody(body), map[string]string{"Idempotency-Key": key}, &res)
	if err != nil {
		return nil, err
	}
	res.Duplicate = st == http.StatusOK
	return &res, nil
}

func bytesBody(b []byte) func() (io.ReadCloser, int64, error) {
	return func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
}

// AlertBatch is the body of POST /api/v1/alerts: Alerts[i] has sequence
// number Seq+i for SensorID.
type AlertBatch struct {
	Node     string            `json:"node"`
	SensorID string            `json:"sensor_id"`
	Seq      uint64            `json:"seq"`
	Alerts   []json.RawMessage `json:"alerts"`
}

// AlertsResult is the server's answer to an alert batch.
type AlertsResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// PostAlerts sends one batch (retrying per Config).
func (c *Client) PostAlerts(ctx context.Context, b *AlertBatch) (*AlertsResult, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var res AlertsResult
	if _, err := c.do(ctx, "/api/v1/alerts", bytesBody(body), nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Heartbeat is the body of POST /api/v1/heartbeats.
type Heartbeat struct {
	Node     string    `json:"node"`
	SensorID string    `json:"sensor_id"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Events   uint64    `json:"events"`
	Drops    uint64    `json:"drops"`
	Alerts   uint64    `json:"alerts"`
	Spooled  uint64    `json:"spooled"`
}

// PostHeartbeat sends a heartbeat (one attempt: the next one follows soon).
func (c *Client) PostHeartbeat(ctx context.Context, hb *Heartbeat) error {
	body, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	one := *c
	one.attempts = 1
	_, err = one.do(ctx, "/api/v1/heartbeats", bytesBody(body), nil, nil)
	return err
}

// IsPermanent reports whether err is a 4xx answer retrying cannot fix.
func IsPermanent(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && !se.Retryable()
}
