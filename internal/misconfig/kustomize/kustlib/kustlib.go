// Package kustlib builds kustomizations in process with
// sigs.k8s.io/kustomize/api (krusty); it is the default build's builder.
package kustlib

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Builder builds with the kustomize library; the load restrictor keeps
// files inside the kustomization's root as kustomize does by default.
// The library itself would clone remote bases and fetch URLs: callers
// refuse such kustomizations first (kustomize.Index.Remote), as the
// misconfig scanner does.
type Builder struct{}

// Name identifies the builder.
func (Builder) Name() string { return "kustomize-library" }

// Build runs krusty on dir and returns the resources as YAML.
func (Builder) Build(ctx context.Context, dir string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	k := krusty.MakeKustomizer(opts)
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return out, nil
}
