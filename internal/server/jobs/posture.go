package jobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/report"
)

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
// secrets), stored as one scan of the cluster. A scan that could not read
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
		rep := &report.Report{
			SchemaVersion: report.SchemaVersion,
			Tool:          report.Tool{Name: "ward", Version: o.Version, URI: "https://github.com/wardsec/ward"},
			Artifact:      report.Artifact{Name: target, Type: "cluster"},
			Scanners:      []string{cluster.ScannerMisconfig, cluster.ScannerRBAC, cluster.ScannerNetwork, cluster.ScannerSecret},
			Findings:      res.Findings,
			Warnings:      res.Warnings,
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
