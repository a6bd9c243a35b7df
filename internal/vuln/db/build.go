package db

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/vuln/osv"
)

// txBatch is how many advisories one write transaction holds: enough to
// amortize commits, small enough to keep the builder's memory bounded.
const txBatch = 2000

// maxDetails bounds the details text kept in summary records.
const maxDetails = 4000

// builder writes a new database into a temporary file next to the live
// one; finish syncs it and renames it into place.
type builder struct {
	dir     string
	tmp     string
	db      *bolt.DB
	tx      *bolt.Tx
	pending int
	status  Status
	seen    map[string]struct{}
	// afterAdd, when set (tests), runs after every advisory added.
	afterAdd func(n int) error
	added    int
	zw       *flate.Writer
	zbuf     bytes.Buffer
}

// deflate compresses an advisory's JSON for the adv bucket (read back only
// by Export, so compactness beats speed here).
func (b *builder) deflate(data []byte) []byte {
	b.zbuf.Reset()
	if b.zw == nil {
		b.zw, _ = flate.NewWriter(&b.zbuf, flate.BestSpeed)
	} else {
		b.zw.Reset(&b.zbuf)
	}
	_, _ = b.zw.Write(data)
	_ = b.zw.Close()
	return append([]byte(nil), b.zbuf.Bytes()...)
}

func newBuilder(dir string) (*builder, error) {
	f, err := os.CreateTemp(dir, ".vuln.db.tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	tmp := f.Name()
	f.Close()
	bdb, err := bolt.Open(tmp, 0o644, &bolt.Options{NoSync: true, NoFreelistSync: true, Timeout: time.Second})
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("create database %s: %w", tmp, err)
	}
	b := &builder{dir: dir, tmp: tmp, db: bdb, seen: map[string]struct{}{},
		status: Status{Schema: SchemaVersion, Ecosystems: map[string]int{}}}
	if err := b.begin(); err != nil {
		b.abort()
		return nil, err
	}
	for _, name := range [][]byte{bucketMeta, bucketAdv, bucketSum, bucketIdx, bucketSrc} {
		if _, err := b.tx.CreateBucketIfNotExists(name); err != nil {
			b.abort()
			return nil, fmt.Errorf("create database: %w", err)
		}
	}
	return b, nil
}

func (b *builder) begin() error {
	tx, err := b.db.Begin(true)
	if err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	b.tx, b.pending = tx, 0
	return nil
}

func (b *builder) commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		return fmt.Errorf("write database %s: %w", b.tmp, err)
	}
	return nil
}

// abort discards the temporary database.
func (b *builder) abort() {
	if b.tx != nil {
		_ = b.tx.Rollback()
		b.tx = nil
	}
	_ = b.db.Close()
	_ = os.Remove(b.tmp)
}

func (b *builder) fail(src *SourceStatus, file string, err error) {
	src.ParseFailures++
	b.status.ParseFailures++
	if len(src.Failures) < MaxFailuresKept {
		src.Failures = append(src.Failures, Failure{File: file, Error: err.Error()})
	}
}

// add parses and stores one advisory document. Documents that do not
// parse are counted in src; only storage errors are returned.
func (b *builder) add(src *SourceStatus, file string, data []byte) error {
	return b.addCompressed(src, file, data, nil)
}

// addCompressed is add for a document whose deflated form is at hand (a
// zip entry stored with Deflate): it is kept as is instead of being
// compressed again.
func (b *builder) addCompressed(src *SourceStatus, file string, data, deflated []byte) error {
	v, err := osv.Parse(data)
	if err != nil {
		b.fail(src, file, err)
		return nil
	}
	if v.IsWithdrawn() {
		src.Withdrawn++
		b.status.Withdrawn++
		return nil
	}
	if deflated == nil {
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			b.fail(src, file, err)
			return nil
		}
		deflated = b.deflate(compact.Bytes())
	}
	if b.tx == nil {
		if err := b.begin(); err != nil {
			return err
		}
	}
	id := []byte(v.ID)
	if err := b.tx.Bucket(bucketAdv).Put(id, deflated); err != nil {
		return fmt.Errorf("store %s: %w", v.ID, err)
	}
	if err := b.tx.Bucket(bucketSum).Put([]byte(v.ID), encodeAdvisory(summarize(v))); err != nil {
		return fmt.Errorf("store %s: %w", v.ID, err)
	}
	srcKey := append(append([]byte(src.Name), 0), v.ID...)
	if err := b.tx.Bucket(bucketSrc).Put(srcKey, nil); err != nil {
		return fmt.Errorf("store %s: %w", v.ID, err)
	}
	idx := b.tx.Bucket(bucketIdx)
	ecos := map[string]bool{}
	for i := range v.Affected {
		a := &v.Affected[i]
		if a.Package.Name == "" || a.Package.Ecosystem == "" {
			continue
		}
		e := Entry{ID: v.ID, Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Versions: a.Versions}
		e.Severity, e.SeveritySource = affectedSeverity(a)
		for _, r := range a.Ranges {
			if r.Type == osv.RangeGit {
				continue
			}
			r.Events = append([]osv.Event(nil), r.Events...)
			osv.SortEvents(a.Package.Ecosystem, &r)
			e.Ranges = append(e.Ranges, r)
		}
		if len(e.Ranges) == 0 && len(e.Versions) == 0 {
			continue
		}
		base, _ := osv.SplitEcosystem(a.Package.Ecosystem)
		key := idxPrefix(base, a.Package.Name)
		key = append(key, v.ID...)
		key = append(key, 0)
		key = binary.BigEndian.AppendUint32(key, uint32(i))
		if err := idx.Put(key, encodeEntry(&e)); err != nil {
			return fmt.Errorf("store %s: %w", v.ID, err)
		}
		ecos[a.Package.Ecosystem] = true
	}
	src.Advisories++
	if _, dup := b.seen[v.ID]; !dup {
		b.seen[v.ID] = struct{}{}
		b.status.Advisories++
		for eco := range ecos {
			b.status.Ecosystems[eco]++
		}
	}
	b.pending++
	b.added++
	if b.afterAdd != nil {
		if err := b.afterAdd(b.added); err != nil {
			return err
		}
	}
	if b.pending >= txBatch {
		return b.commit()
	}
	return nil
}

func summarize(v *osv.Vulnerability) *Advisory {
	a := &Advisory{ID: v.ID, Aliases: v.Aliases, Related: v.Related, Summary: v.Summary,
		Published: v.Published, Modified: v.Modified, Severity: v.Severity}
	a.Details = v.Details
	if len(a.Details) > maxDetails {
		a.Details = strings.ToValidUTF8(a.Details[:maxDetails], "") + "..."
	}
	a.DatabaseSeverity = rawSeverity(v.DatabaseSpecific)
	for _, r := range v.References {
		if len(a.References) == 20 {
			break
		}
		a.References = append(a.References, r.URL)
	}
	return a
}

// rawSeverity reads a string "severity" field of a database_specific or
// ecosystem_specific object.
func rawSeverity(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s struct {
		Severity json.RawMessage `json:"severity"`
	}
	if json.Unmarshal(raw, &s) != nil || len(s.Severity) == 0 {
		return ""
	}
	var str string
	if json.Unmarshal(s.Severity, &str) != nil {
		return ""
	}
	return strings.TrimSpace(str)
}

func affectedSeverity(a *osv.Affected) (string, string) {
	if s := rawSeverity(a.EcosystemSpecific); s != "" {
		return s, "ecosystem_specific"
	}
	if s := rawSeverity(a.DatabaseSpecific); s != "" {
		return s, "database_specific"
	}
	for _, s := range a.Severity {
		if !strings.HasPrefix(s.Type, "CVSS_") && s.Score != "" {
			return s.Score, s.Type
		}
	}
	return "", ""
}

// maxTotalUncompressed bounds what one archive may expand to.
const maxTotalUncompressed = 16 << 30

// addZip adds every *.json document of an OSV archive.
func (b *builder) addZip(ctx context.Context, src *SourceStatus, path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s: not a readable zip archive: %w", path, err)
	}
	defer zr.Close()
	var total int64
	label := filepath.Base(path)
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(f.Name), ".json") {
			continue
		}
		name := label + ":" + f.Name
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: damaged archive: %w", name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, osv.MaxAdvisorySize+1))
		rc.Close()
		if err != nil {
			// A checksum or decompression error means the archive is
			// damaged: refuse it rather than build a partial database.
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(data) > osv.MaxAdvisorySize {
			b.fail(src, name, fmt.Errorf("larger than %d bytes", osv.MaxAdvisorySize))
			continue
		}
		total += int64(len(data))
		if total > maxTotalUncompressed {
			return fmt.Errorf("%s: expands to more than %d bytes", path, int64(maxTotalUncompressed))
		}
		var deflated []byte
		if f.Method == zip.Deflate && f.CompressedSize64 < osv.MaxAdvisorySize {
			if raw, err := f.OpenRaw(); err == nil {
				deflated, _ = io.ReadAll(raw)
			}
		}
		if err := b.addCompressed(src, name, data, deflated); err != nil {
			return err
		}
	}
	return nil
}

// addFile adds one JSON document.
func (b *builder) addFile(src *SourceStatus, path, label string) error {
	f, err := os.Open(path)
	if err != nil {
		b.fail(src, label, err)
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, osv.MaxAdvisorySize+1))
	f.Close()
	if err != nil {
		b.fail(src, label, err)
		return nil
	}
	if len(data) > osv.MaxAdvisorySize {
		b.fail(src, label, fmt.Errorf("larger than %d bytes", osv.MaxAdvisorySize))
		return nil
	}
	return b.add(src, label, data)
}

// addDir adds every *.json file under dir (symbolic links are not followed).
func (b *builder) addDir(ctx context.Context, src *SourceStatus, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			b.fail(src, p, err)
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasSuffix(strings.ToLower(d.Name()), ".json") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		return b.addFile(src, p, filepath.ToSlash(rel))
	})
}

// copySource re-adds the advisories of one source of an existing database.
func (b *builder) copySource(old *DB, src *SourceStatus) error {
	var raws [][]byte
	var ids []string
	err := old.View(func(r *Reader) error {
		return r.SourceIDs(src.Name, func(id string) error {
			if raw := r.Raw(id); raw != nil {
				raws = append(raws, raw)
				ids = append(ids, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	src.Advisories = 0
	for i, raw := range raws {
		if err := b.add(src, ids[i], raw); err != nil {
			return err
		}
	}
	return nil
}

// finish writes the status record, syncs the new file and renames it over
// the live database, then syncs the directory.
func (b *builder) finish(sources []SourceStatus) (Status, error) {
	sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
	b.status.Sources = sources
	b.status.Built = time.Now().UTC().Truncate(time.Second)
	if b.tx == nil {
		if err := b.begin(); err != nil {
			b.abort()
			return Status{}, err
		}
	}
	st, err := json.Marshal(b.status)
	if err == nil {
		meta := b.tx.Bucket(bucketMeta)
		if err = meta.Put(keySchema, []byte(fmt.Sprint(SchemaVersion))); err == nil {
			err = meta.Put(keyStatus, st)
		}
	}
	if err == nil {
		err = b.commit()
	}
	if err == nil {
		err = b.db.Sync()
	}
	if cerr := b.db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(b.tmp)
		return Status{}, fmt.Errorf("write database: %w", err)
	}
	final := filepath.Join(b.dir, FileName)
	if err := os.Rename(b.tmp, final); err != nil {
		_ = os.Remove(b.tmp)
		return Status{}, fmt.Errorf("install database: %w", err)
	}
	syncDir(b.dir)
	b.status.Path = final
	if fi, err := os.Stat(final); err == nil {
		b.status.SizeBytes = fi.Size()
	}
	return b.status, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// removeStale deletes temporary files left by builds that were killed.
// The caller holds the directory lock, so no build is running.
func removeStale(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".vuln.db.tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}
