package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/jobs"
)

// scheduledJobs builds the jobs of the configuration file.
func scheduledJobs(o Options, h *api.Server, log *slog.Logger) []jobs.Job {
	if o.Config == nil {
		return nil
	}
	var out []jobs.Job
	if p := o.Config.Jobs.Posture; p != nil {
		out = append(out, jobs.Job{Name: "posture", Every: p.Every, Run: jobs.Posture(jobs.PostureOptions{
			Kubeconfig: p.Kubeconfig, Context: p.Context, Name: p.Name, Namespaces: p.Namespaces,
			Version: o.Version, Logger: log.With("job", "posture"),
		}, h.IngestReport)})
	}
	return out
}

// holderID names this server process in job leases.
func holderID() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + "/" + hex.EncodeToString(b[:])
}
