package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/sink"
	"github.com/wardsec/ward/pkg/report"
)

// maxKeyLen bounds the Idempotency-Key header.
const maxKeyLen = 200

// scanResult is the answer to POST /api/v1/scans.
type scanResult struct {
	ScanID   string `json:"scan_id"`
	Findings int    `json:"findings"`
	New      int    `json:"new"`
	Fixed    int    `json:"fixed"`
}

// postScan stores a report: the body is spooled to a temporary file (at
// most MaxScanBytes), then decoded within the ingest memory budget and
// stored in one transaction. The same Idempotency-Key again answers 200
// with the first upload's scan and stores nothing.
func (s *Server) postScan(w http.ResponseWriter, r *http.Request, _ caller) error {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxKeyLen {
		return badRequest("Idempotency-Key: longer than %d characters", maxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return badRequest("Idempotency-Key: character %d is not printable ASCII", i+1)
		}
	}
	raw, release, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	defer release()
	if key == "" {
		sum := sha256.Sum256(raw)
		key = hex.EncodeToString(sum[:])
	}
	rep, err := decodeReport(raw)
	if err != nil {
		return badRequest("%v", err)
	}
	res, err := s.IngestReport(r.Context(), key, rep, raw)
	if err != nil {
		return err
	}
	out := scanResult{ScanID: res.ScanID, Findings: res.Findings, New: res.New, Fixed: res.Fixed}
	if res.Duplicate {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// IngestReport stores rep (raw is its JSON) under the idempotency key,
// counts it in the metrics and routes its findings to the sinks. Uploads
// and scheduled jobs ingest through it.
func (s *Server) IngestReport(ctx context.Context, key string, rep *report.Report, raw []byte) (store.IngestResult, error) {
	var known map[string]string
	if s.router != nil {
		var err error
		if known, err = s.knownFindings(ctx, rep.Artifact.Name); err != nil {
			return store.IngestResult{}, err
		}
	}
	res, err := s.st.IngestScan(ctx, key, rep, raw)
	if err != nil {
		return res, err
	}
	if res.Duplicate {
		s.metrics.scans.inc("duplicate")
		return res, nil
	}
	s.metrics.scans.inc("stored")
	s.metrics.findingsIngested.Add(uint64(res.Findings))
	s.metrics.ingestBytes.Add(uint64(len(raw)))
	if s.router != nil {
		s.routeFindings(rep, known)
	}
	return res, nil
}

// readUpload spools the body to disk, then reads it into memory once the
// ingest budget allows; release returns the budget.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) ([]byte, func(), error) {
	if r.ContentLength > s.maxScan {
		return nil, nil, errorf(http.StatusRequestEntityTooLarge, "report of %d bytes: larger than the limit of %d bytes", r.ContentLength, s.maxScan)
	}
	f, err := os.CreateTemp(s.tmp, "ward-upload-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("upload spool: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := io.Copy(f, http.MaxBytesReader(w, r.Body, s.maxScan))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, errorf(http.StatusRequestEntityTooLarge, "report larger than the limit of %d bytes", s.maxScan)
		}
		if r.Context().Err() != nil {
			return nil, nil, r.Context().Err()
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("upload spool: %w", err)
		}
		return nil, nil, badRequest("reading the request body: %v", err)
	}
	if n == 0 {
		return nil, nil, badRequest("empty body: want a Ward JSON report (--format json)")
	}
	weight := min(n*reportMemoryFactor, s.memory)
	if err := s.budget.Acquire(r.Context(), weight); err != nil {
		return nil, nil, err
	}
	release := func() { s.budget.Release(weight) }
	raw := make([]byte, n)
	if _, err := f.ReadAt(raw, 0); err != nil {
		release()
		return nil, nil, fmt.Errorf("upload spool: %w", err)
	}
	return raw, release, nil
}

// knownFindings maps the fingerprints the store holds for target to their
// status, so that routing can tell new findings from recurring ones.
func (s *Server) knownFindings(ctx context.Context, target string) (map[string]string, error) {
	out := map[string]string{}
	f := store.FindingFilter{Target: target, Limit: 1000}
	for {
		items, next, err := s.st.Findings(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("known findings of %s: %w", target, err)
		}
		for _, it := range items {
			if it.Target != target {
				continue
			}
			var fp struct {
				Fingerprint string `json:"fingerprint"`
			}
			if json.Unmarshal(it.Finding, &fp) == nil && fp.Fingerprint != "" {
				out[fp.Fingerprint] = it.Status
			}
		}
		if next == "" || len(items) == 0 {
			return out, nil
		}
		f.Cursor = next
	}
}

// routeFindings queues the report's findings on the sinks: a finding is
// new when it was not open before (absent or fixed); findings suppressed
// in the store or in the report are not routed.
func (s *Server) routeFindings(rep *report.Report, known map[string]string) {
	for i := range rep.Findings {
		f := rep.Findings[i]
		if f.Suppressed != nil {
			continue
		}
		st, seen := known[f.Fingerprint]
		if st == "suppressed" {
			continue
		}
		isNew := !seen || st == "fixed"
		if s.router.Route(sink.FindingEvent(f, rep.Artifact.Name, isNew)) > 0 {
			s.metrics.routed.inc("finding")
		}
	}
}
