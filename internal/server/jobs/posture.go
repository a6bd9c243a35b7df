package jobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/misconfig/compliance"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// PostureFrameworks are the compliance views every posture scan carries
// (the dashboard's cluster page scores each): CIS Kubernetes Benchmark
// section 5, the NSA-CISA hardening guide and both Pod Security levels.
var PostureFrameworks = []string{"k8s-cis", "k8s-nsa", "k8s-pss-baseline", "k8s-pss-restricted"}

// postureCompliance returns the controls of every PostureFrameworks view
// over the scan's findings, as `ward k8s --compliance F` builds one view:
// a control fails when an unsuppressed finding of a check mapped to it
// exists, and passes otherwise.
func postureCompliance(fs []finding.Finding) ([]report.ComplianceControl, error) {
	counts := map[string]int{}
	compliance.CountUnsuppressed(counts, fs)
	cat := cluster.Catalog()
	var out []report.ComplianceControl
	for _, fw := range PostureFrameworks {
		ctrls, err := compliance.BuildCounts(fw, cat, counts)
		if err != nil {
			return nil, fmt.Errorf("posture: compliance %s: %w", fw, err)
		}
		out = append(out, ctrls...)
	}
	return out, nil
}

// Ingest stores a report and routes its findings (api.Server.IngestReport).
type Ingest func(ctx context.Context, key string, rep *report.Report, raw []byte) (store.IngestResult, error)

// PostureOptions configures the cluster posture job.
type PostureOptions struct {
	Kubeconfig, Context string
	// Name is the target the findings are stored under (default: the API
	// server URL, with the context name when one is given).
	Name       string
	Namespaces []string
	Version    string
	Logger     *slog.Logger
}

// Posture returns the cluster posture job's function: what `ward k8s`
// scans (workloads, Pod Security, RBAC, network policy, control plane,
// secrets), stored as one scan of the cluster with the controls of the
// PostureFrameworks compliance views. A scan that could not read
// some kinds or endpoints is not stored, so that the findings it could not
// see are not marked fixed; the error says what failed.
func Posture(o PostureOptions, ingest Ingest) func(ctx context.Context) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context) error {
		cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: o.Kubeconfig, Context: o.Context})
		if err != nil {
			return fmt.Errorf("posture: %w", err)
		}
		cl, err := kube.New(cfg)
		if err != nil {
			return fmt.Errorf("posture: %w", err)
		}
		target := o.Name
		if target == "" {
			target = cl.Host()
			if cfg.Context != "" {
				target = cfg.Context + " (" + cl.Host() + ")"
			}
		}
		sec, err := secret.New(secret.Options{Logger: log})
		if err != nil {
			return fmt.Errorf("posture: %w", err)
		}
		res, err := cluster.Scan(ctx, cl, cluster.Options{Target: target, Namespaces: o.Namespaces, Secrets: sec, Logger: log})
		if err != nil {
			return fmt.Errorf("posture: cluster %s: %w", cl.Host(), err)
		}
		if len(res.Errors) > 0 {
			return fmt.Errorf("posture: cluster %s: %d parts could not be read (first: %v); scan not stored so that their findings are not marked fixed", target, len(res.Errors), res.Errors[0])
		}
		ctrls, err := postureCompliance(res.Findings)
		if err != nil {
			return err
		}
		rep := &report.Report{
			SchemaVersion: report.SchemaVersion,
			Tool:          report.Tool{Name: "ward", Version: o.Version, URI: "https://github.com/wardsec/ward"},
			Artifact:      report.Artifact{Name: target, Type: "cluster"},
			Scanners:      []string{cluster.ScannerMisconfig, cluster.ScannerRBAC, cluster.ScannerNetwork, cluster.ScannerSecret},
			Findings:      res.Findings,
			Warnings:      res.Warnings,
			Compliance:    ctrls,
		}
		rep.Finalize()
		var buf bytes.Buffer
		w, err := report.New("json", report.Options{})
		if err != nil {
			return err
		}
		if err := w.Write(&buf, rep); err != nil {
			return fmt.Errorf("posture: report: %w", err)
		}
		key := fmt.Sprintf("posture:%s:%d", target, time.Now().UnixNano())
		r, err := ingest(ctx, key, rep, buf.Bytes())
		if err != nil {
			return fmt.Errorf("posture: store: %w", err)
		}
		log.Info("posture scan stored", "target", target, "scan_id", r.ScanID, "findings", r.Findings, "new", r.New, "fixed", r.Fixed)
		return nil
	}
}
