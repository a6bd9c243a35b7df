package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Clean drops the sources of the current database that this import
	// does not name; by default they are kept (merged).
	Clean  bool
	Logger *slog.Logger

	// afterAdd, when set (tests), runs after every advisory added.
	afterAdd func(n int) error
}

// source is one input of a build.
type source struct {
	status SourceStatus
	add    func(ctx context.Context, b *builder, st *SourceStatus) error
}

type buildOptions struct {
	clean    bool
	afterAdd func(n int) error
}

// Import builds the database in dir from local OSV data: all.zip archives
// (the source is named after the archive, or its directory for
// "<ecosystem>/all.zip"), directories (every archive inside is a source;
// loose *.json documents form a source named after the directory), single
// JSON documents, and Ward bundles written by Export.
func Import(ctx context.Context, dir string, paths []string, opts ImportOptions) (Status, error) {
	if len(paths) == 0 {
		return Status{}, errors.New("nothing to import: give OSV zip archives, directories of OSV JSON, or a Ward bundle")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Status{}, fmt.Errorf("create database directory: %w", err)
	}
	var sources []source
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	for _, p := range paths {
		srcs, cleanup, err := classify(dir, p)
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
		if err != nil {
			return Status{}, err
		}
		sources = append(sources, srcs...)
	}
	return rebuild(ctx, dir, sources, buildOptions{clean: opts.Clean, afterAdd: opts.afterAdd})
}

func zipSource(path, name, origin string) source {
	return source{
		status: SourceStatus{Name: name, Origin: origin},
		add: func(ctx context.Context, b *builder, st *SourceStatus) error {
			return b.addZip(ctx, st, path)
		},
	}
}

// zipSourceName names an archive's source: "Go.zip" -> "Go",
// "PyPI/all.zip" -> "PyPI".
func zipSourceName(path string) string {
	base := filepath.Base(path)
	if strings.EqualFold(base, "all.zip") {
		if parent := filepath.Base(filepath.Dir(path)); parent != "." && parent != string(filepath.Separator) {
			return parent
		}
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func classify(dbDir, p string) ([]source, func(), error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	if fi.IsDir() {
		var srcs []source
		hasJSON := false
		err := filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(q)) {
			case ".zip":
				srcs = append(srcs, zipSource(q, zipSourceName(q), q))
			case ".json":
				hasJSON = true
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("import %s: %w", p, err)
		}
		if hasJSON {
			srcs = append(srcs, source{
				status: SourceStatus{Name: filepath.Base(abs), Origin: abs},
				add: func(ctx context.Context, b *builder, st *SourceStatus) error {
					return b.addDir(ctx, st, abs)
				},
			})
		}
		if len(srcs) == 0 {
			return nil, nil, fmt.Errorf("import %s: no OSV archives (*.zip) or documents (*.json) found", p)
		}
		return srcs, nil, nil
	}
	head := make([]byte, 512)
	f, err := os.Open(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return []source{zipSource(abs, zipSourceName(abs), abs)}, nil, nil
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return readBundle(dbDir, abs)
	case strings.EqualFold(filepath.Ext(abs), ".json"):
		name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
		return []source{{
			status: SourceStatus{Name: name, Origin: abs},
			add: func(_ context.Context, b *builder, st *SourceStatus) error {
				return b.addFile(st, abs, filepath.Base(abs))
			},
		}}, nil, nil
	}
	return nil, nil, fmt.Errorf("import %s: not an OSV zip archive, a directory, a JSON document or a Ward bundle", p)
}

// rebuild builds a new database from sources (plus, unless clean, the
// other sources of the current one) and installs it atomically.
func rebuild(ctx context.Context, dir string, sources []source, opts buildOptions) (Status, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Status{}, fmt.Errorf("create database directory: %w", err)
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return Status{}, err
	}
	defer unlock()
	return rebuildLocked(ctx, dir, sources, opts)
}

// rebuildLocked is rebuild for a caller that holds the directory lock.
func rebuildLocked(ctx context.Context, dir string, sources []source, opts buildOptions) (Status, error) {
	removeStale(dir)

	var old *DB
	if !opts.clean {
		if o, err := Open(dir); err == nil {
			old = o
			defer func() {
				if old != nil {
					old.Close()
				}
			}()
		}
	}
	b, err := newBuilder(dir)
	if err != nil {
		return Status{}, err
	}
	b.afterAdd = opts.afterAdd
	names := map[string]int{}
	var statuses []SourceStatus
	for _, s := range sources {
		st := s.status
		names[st.Name]++
		if names[st.Name] > 1 {
			st.Name = fmt.Sprintf("%s#%d", st.Name, names[st.Name])
		}
		st.Advisories, st.Withdrawn, st.ParseFailures, st.Failures = 0, 0, 0, nil
		if err := s.add(ctx, b, &st); err != nil {
			b.abort()
			return Status{}, err
		}
		statuses = append(statuses, st)
	}
	if old != nil {
		for _, st := range old.Status().Sources {
			if names[st.Name] > 0 {
				continue
			}
			// Withdrawn advisories and parse failures of a kept source
			// were counted when it was read; carry the counts over.
			wd, pf, kept := st.Withdrawn, st.ParseFailures, st.Failures
			st.Withdrawn, st.ParseFailures, st.Failures = 0, 0, nil
			if err := b.copySource(old, &st); err != nil {
				b.abort()
				return Status{}, fmt.Errorf("keep source %s: %w", st.Name, err)
			}
			st.Withdrawn, st.ParseFailures, st.Failures = wd, pf, kept
			b.status.Withdrawn += wd
			b.status.ParseFailures += pf
			statuses = append(statuses, st)
		}
		old.Close()
		old = nil
	}
	return b.finish(statuses)
}
