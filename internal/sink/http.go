package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// SignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret, body)) over
// the exact request body bytes of webhook deliveries.
const SignatureHeader = "X-Ward-Signature-256"

// Build constructs the sink a config describes.
func Build(c *SinkConfig) (Sink, error) {
	switch c.Type {
	case "file":
		return OpenFile(c.Path)
	case "syslog":
		return NewSyslog(c)
	}
	hc, err := httpClient(c)
	if err != nil {
		return nil, err
	}
	switch c.Type {
	case "webhook":
		secret, err := secretOf(c.Secret, c.SecretFile)
		if err != nil {
			return nil, err
		}
		return &Webhook{URL: c.URL, Secret: []byte(secret), Client: hc}, nil
	case "slack":
		return &Slack{URL: c.URL, Client: hc}, nil
	case "splunk":
		tok, err := secretOf(c.Token, c.TokenFile)
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return nil, fmt.Errorf("splunk: token is required")
		}
		return &SplunkHEC{URL: c.URL, Token: tok, Client: hc}, nil
	case "elasticsearch", "opensearch":
		idx := c.Index
		if idx == "" {
			idx = "ward"
		}
		return &Bulk{URL: c.URL, Index: idx, Username: c.Username, Password: c.Password, Client: hc}, nil
	}
	return nil, fmt.Errorf("unknown sink type %q", c.Type)
}

func secretOf(v, file string) (string, error) {
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func httpClient(c *SinkConfig) (*http.Client, error) {
	tc, err := tlsConfig(c.CAFile)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	to := c.Timeout
	if to <= 0 {
		to = 15 * time.Second
	}
	return &http.Client{Transport: t, Timeout: to}, nil
}

// post sends body and classifies the answer: 2xx ok, 408/429/5xx
// retryable, other 4xx permanent. It returns the response body (≤1 MiB).
func post(ctx context.Context, hc *http.Client, url, ctype string, body []byte, hdr map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &PermanentError{fmt.Errorf("POST %s: %w", url, err)}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "ward-sink")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return rb, nil
	}
	e := fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(trunc(rb, 200)))
	if resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500 {
		return rb, e
	}
	return rb, &PermanentError{e}
}

func trunc(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Webhook POSTs {"events":[…]} with an HMAC-SHA256 signature header.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
}

// Sign returns the SignatureHeader value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func eventsJSON(events []Event) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(events))
	for i := range events {
		b, err := events[i].JSON()
		if err != nil {
			return nil, &PermanentError{err}
		}
		out[i] = b
	}
	return out, nil
}

// Send implements Sink.
func (w *Webhook) Send(ctx context.Context, events []Event) error {
	evs, err := eventsJSON(events)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"events": evs})
	if err != nil {
		return &PermanentError{err}
	}
	hdr := map[string]string{}
	if len(w.Secret) > 0 {
		hdr[SignatureHeader] = Sign(w.Secret, body)
	}
	_, err = post(ctx, w.Client, w.URL, "application/json", body, hdr)
	return err
}

// Close implements Sink.
func (w *Webhook) Close() error { return nil }

// Slack POSTs {"text": …} (one line per event) to an incoming webhook.
type Slack struct {
	URL    string
	Client *http.Client
}

// Send implements Sink.
func (s *Slack) Send(ctx context.Context, events []Event) error {
	var sb strings.Builder
	for i := range events {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString("*" + slackEscape(events[i].Title()) + "*")
		if m := events[i].Message(); m != "" {
			sb.WriteString(" — " + slackEscape(m))
		}
	}
	body, _ := json.Marshal(map[string]string{"text": sb.String()})
	_, err := post(ctx, s.Client, s.URL, "application/json", body, nil)
	return err
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Close implements Sink.
func (s *Slack) Close() error { return nil }

// SplunkHEC POSTs events to URL/services/collector/event.
type SplunkHEC struct {
	URL    string
	Token  string
	Client *http.Client
}

// Send implements Sink.
func (s *SplunkHEC) Send(ctx context.Context, events []Event) error {
	var body []byte
	for i := range events {
		e := &events[i]
		ej, err := e.JSON()
		if err != nil {
			return &PermanentError{err}
		}
		b, err := json.Marshal(map[string]any{"time": float64(e.Time.UnixMilli()) / 1000, "host": e.TargetName(),
			"source": "ward", "sourcetype": "ward:" + e.Kind(), "event": json.RawMessage(ej)})
		if err != nil {
			return &PermanentError{err}
		}
		body = append(append(body, b...), '\n')
	}
	url := strings.TrimSuffix(s.URL, "/") + "/services/collector/event"
	rb, err := post(ctx, s.Client, url, "application/json", body, map[string]string{"Authorization": "Splunk " + s.Token})
	if err != nil {
		return err
	}
	var ans struct {
		Code *int   `json:"code"`
		Text string `json:"text"`
	}
	if json.Unmarshal(rb, &ans) == nil && ans.Code != nil && *ans.Code != 0 {
		return &PermanentError{fmt.Errorf("POST %s: HEC code %d: %s", url, *ans.Code, ans.Text)}
	}
	return nil
}

// Close implements Sink.
func (s *SplunkHEC) Close() error { return nil }

// Bulk indexes events through Elasticsearch/OpenSearch's _bulk API. Each
// document's _id is the sha256 of its JSON, so a retried batch does not
// duplicate the items that succeeded.
type Bulk struct {
	URL, Index         string
	Username, Password string
	Client             *http.Client
}

// Send implements Sink.
func (b *Bulk) Send(ctx context.Context, events []Event) error {
	var body []byte
	for i := range events {
		ej, err := events[i].JSON()
		if err != nil {
			return &PermanentError{err}
		}
		sum := sha256.Sum256(ej)
		meta, _ := json.Marshal(map[string]any{"index": map[string]string{"_index": b.Index, "_id": hex.EncodeToString(sum[:])}})
		body = append(append(append(append(body, meta...), '\n'), ej...), '\n')
	}
	url := strings.TrimSuffix(b.URL, "/") + "/_bulk"
	hdr := map[string]string{}
	if b.Username != "" {
		req, _ := http.NewRequest(http.MethodPost, url, nil)
		req.SetBasicAuth(b.Username, b.Password)
		hdr["Authorization"] = req.Header.Get("Authorization")
	}
	rb, err := post(ctx, b.Client, url, "application/x-ndjson", body, hdr)
	if err != nil {
		return err
	}
	var ans struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rb, &ans); err != nil {
		return fmt.Errorf("POST %s: bad bulk response: %w", url, err)
	}
	if len(ans.Items) != len(events) {
		return fmt.Errorf("POST %s: bulk response has %d items for %d events", url, len(ans.Items), len(events))
	}
	retry, failed := false, 0
	var first string
	for i, it := range ans.Items {
		for _, r := range it {
			if r.Status >= 200 && r.Status < 300 {
				continue
			}
			failed++
			if first == "" {
				first = fmt.Sprintf("item %d: status %d: %s", i, r.Status, trunc(r.Error, 200))
			}
			if r.Status == 429 || r.Status >= 500 {
				retry = true
			}
		}
	}
	if failed == 0 {
		return nil
	}
	e := fmt.Errorf("POST %s: %d of %d items failed; %s", url, failed, len(events), first)
	if retry {
		return e
	}
	return &PermanentError{e}
}

// Close implements Sink.
func (b *Bulk) Close() error { return nil }
