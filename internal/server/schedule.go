package server

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/jobs"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/internal/vuln/db"
)

// scheduledJobs builds the jobs of the configuration file.
func scheduledJobs(o Options, st *store.Store, h *api.Server, log *slog.Logger) ([]jobs.Job, error) {
	if o.Config == nil {
		return nil, nil
	}
	var out []jobs.Job
	if p := o.Config.Jobs.Posture; p != nil {
		out = append(out, jobs.Job{Name: "posture", Every: p.Every, Run: jobs.Posture(jobs.PostureOptions{
			Kubeconfig: p.Kubeconfig, Context: p.Context, Name: p.Name, Namespaces: p.Namespaces,
			Version: o.Version, Logger: log.With("job", "posture"),
		}, h.IngestReport)})
	}
	if v := o.Config.Jobs.VulnDB; v != nil {
		dir := v.Dir
		if dir == "" {
			dir = db.DefaultDir(o.CacheDir)
		}
		ro := jobs.RematchOptions{DBDir: dir, StateFile: filepath.Join(o.DataDir, "rematch.json"), Store: st,
			Version: o.Version, Logger: log.With("job", "vulndb")}
		if u := v.Update; u != nil {
			ro.Update = &db.UpdateOptions{BaseURL: u.BaseURL, Ecosystems: u.Ecosystems, Logger: log.With("job", "vulndb")}
		}
		rm, err := jobs.NewRematcher(ro, h.IngestReport)
		if err != nil {
			return nil, err
		}
		out = append(out, jobs.Job{Name: "vulndb", Every: v.Every, Run: rm.Run})
	}
	var checker *jobs.SignatureChecker
	if j := o.Config.Jobs.Signatures; j != nil {
		var err error
		if checker, err = signatureChecker(j, st, log.With("job", "signatures")); err != nil {
			return nil, err
		}
		out = append(out, jobs.Job{Name: "signatures", Every: j.Every, Run: checker.Run})
	}
	if j := o.Config.Jobs.Registry; j != nil {
		out = append(out, jobs.Job{Name: "registry", Every: j.Every, Run: jobs.Registry(jobs.RegistryOptions{
			Images: j.Images, Repositories: j.Repositories, MaxTags: j.MaxTags, InsecureRegistries: j.InsecureRegistries,
			CacheDir: o.CacheDir, Version: o.Version, Logger: log.With("job", "registry"), Signatures: checker,
		}, h.IngestReport)})
	}
	return out, nil
}

// signatureChecker reads the trusted keys of jobs.signatures.
func signatureChecker(j *SignaturesJob, st *store.Store, log *slog.Logger) (*jobs.SignatureChecker, error) {
	var keys []crypto.PublicKey
	for i, path := range j.Keys {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("jobs.signatures.keys[%d]: %w", i, err)
		}
		k, err := signing.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("jobs.signatures.keys[%d] %s: %w", i, path, err)
		}
		keys = append(keys, k)
	}
	return jobs.NewSignatureChecker(jobs.SignatureOptions{Keys: keys, InsecureRegistries: j.InsecureRegistries,
		Recheck: j.Recheck, Logger: log}, st)
}

// holderID names this server process in job leases.
func holderID() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + "/" + hex.EncodeToString(b[:])
}
