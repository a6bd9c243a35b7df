// Package db is Ward's local vulnerability database: OSV advisories in an
// embedded bbolt store, indexed by ecosystem and package name so that a
// scan opens it in milliseconds and reads only the packages it looks up.
//
// The store is built by Import (OSV zips, directories of OSV JSON, Ward
// bundles) and Update (OSV's per-ecosystem all.zip over HTTP), always into
// a temporary file next to the database that is synced and renamed over
// it: readers never see a half-built database, and an interrupted or
// failed build leaves the previous one untouched.
package db

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/vuln/osv"
)

// FileName is the database file inside its directory.
const FileName = "vuln.db"

// SchemaVersion changes when the store layout changes; a database of
// another schema must be rebuilt (ward db update / import).
const SchemaVersion = 2

var (
	bucketMeta = []byte("meta")
	bucketAdv  = []byte("adv") // ID -> original advisory JSON, deflated
	bucketSum  = []byte("sum") // ID -> Advisory (binary, see encodeAdvisory)
	bucketIdx  = []byte("idx") // eco \0 name \0 ID \0 n -> Entry
	bucketSrc  = []byte("src") // source \0 ID -> nil

	keySchema = []byte("schema")
	keyStatus = []byte("status")
)

// ErrNoDB is returned by Open when no database exists in the directory.
var ErrNoDB = errors.New("no vulnerability database")

// NoDBMessage is what a scan prints when it has no database.
const NoDBMessage = "vulnerability scanning skipped: no database; run `ward db update` or `ward db import`"

// DefaultDir is the database directory under Ward's cache directory.
func DefaultDir(cacheDir string) string { return filepath.Join(cacheDir, "vulndb") }

// DB is an open, read-only database. It is safe for concurrent use.
type DB struct {
	path   string
	bolt   *bolt.DB
	status Status
}

// Open opens the database in dir read-only. It returns an error wrapping
// ErrNoDB when there is none. Opening maps the file and reads its status
// record only.
func Open(dir string) (*DB, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", ErrNoDB, dir)
		}
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	return openFile(path)
}

func openFile(path string) (d *DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("vulnerability database %s is corrupt (%v); rebuild it with `ward db update` or `ward db import`", path, r)
		}
	}()
	b, err := bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w; rebuild it with `ward db update` or `ward db import`", path, err)
	}
	d = &DB{path: path, bolt: b}
	err = b.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("no metadata")
		}
		if s := string(meta.Get(keySchema)); s != fmt.Sprint(SchemaVersion) {
			return fmt.Errorf("schema %q, this Ward reads schema %d", s, SchemaVersion)
		}
		for _, name := range [][]byte{bucketAdv, bucketSum, bucketIdx, bucketSrc} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %s missing", name)
			}
		}
		return json.Unmarshal(meta.Get(keyStatus), &d.status)
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("vulnerability database %s: %w; rebuild it with `ward db update` or `ward db import`", path, err)
	}
	d.status.Path = path
	if fi, err := os.Stat(path); err == nil {
		d.status.SizeBytes = fi.Size()
	}
	return d, nil
}

// Close releases the database.
func (d *DB) Close() error { return d.bolt.Close() }

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Status describes the database.
func (d *DB) Status() Status { return d.status }

// Status describes a database: where its data came from, when it was
// built, what it holds, and what could not be read.
type Status struct {
	Path      string    `json:"path,omitempty"`
	Schema    int       `json:"schema"`
	Built     time.Time `json:"built"`
	SizeBytes int64     `json:"size_bytes,omitempty"`
	// Advisories is the number of distinct advisories stored (withdrawn
	// ones excluded).
	Advisories    int `json:"advisories"`
	Withdrawn     int `json:"withdrawn"`
	ParseFailures int `json:"parse_failures"`
	// Ecosystems counts advisories per affected ecosystem ("AlmaLinux:8").
	Ecosystems map[string]int `json:"ecosystems"`
	Sources    []SourceStatus `json:"sources"`
}

// SourceStatus is one source of advisories: an OSV ecosystem archive, a
// directory or a file.
type SourceStatus struct {
	// Name is the OSV ecosystem of an archive ("Go", "Rocky Linux") or
	// the base name of an imported directory or file.
	Name string `json:"name"`
	// Origin is the URL or local path the data came from.
	Origin       string    `json:"origin"`
	Fetched      time.Time `json:"fetched"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	Advisories   int       `json:"advisories"`
	Withdrawn    int       `json:"withdrawn"`
	// ParseFailures counts documents that could not be read; Failures
	// keeps the first MaxFailuresKept of them with their error.
	ParseFailures int       `json:"parse_failures"`
	Failures      []Failure `json:"failures,omitempty"`
}

// Failure is one document that could not be read.
type Failure struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// MaxFailuresKept bounds the failures recorded per source.
const MaxFailuresKept = 50

// Age is how long ago the database was built.
func (s Status) Age(now time.Time) time.Duration { return now.Sub(s.Built) }

// SortedEcosystems returns the affected ecosystems in name order.
func (s Status) SortedEcosystems() []string {
	out := make([]string, 0, len(s.Ecosystems))
	for k := range s.Ecosystems {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Advisory is the part of an advisory a finding needs (the affected
// entries live in the index).
type Advisory struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Related   []string `json:"related,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	Details   string   `json:"details,omitempty"`
	Published string   `json:"published,omitempty"`
	Modified  string   `json:"modified,omitempty"`
	// Severity lists CVSS vectors and vendor severities of the advisory.
	Severity []osv.Severity `json:"severity,omitempty"`
	// DatabaseSeverity is database_specific.severity ("HIGH", "MODERATE").
	DatabaseSeverity string   `json:"database_severity,omitempty"`
	References       []string `json:"references,omitempty"`
}

// Reader reads the database inside one read transaction.
type Reader struct {
	tx *bolt.Tx
}

// View runs fn with a Reader. Concurrent Views are fine.
func (d *DB) View(fn func(r *Reader) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("vulnerability database %s is corrupt (%v); rebuild it", d.path, r)
		}
	}()
	return d.bolt.View(func(tx *bolt.Tx) error { return fn(&Reader{tx: tx}) })
}

func idxPrefix(base, name string) []byte {
	k := make([]byte, 0, len(base)+len(name)+2)
	k = append(k, base...)
	k = append(k, 0)
	k = append(k, osv.NormalizeName(base, name)...)
	return append(k, 0)
}

// Entries calls fn for every indexed affected entry of a package in an
// ecosystem (the base name: "Debian", "PyPI"; releases are filtered by
// the caller). The name is normalized as osv.NormalizeName does.
func (r *Reader) Entries(baseEcosystem, name string, fn func(Entry) error) error {
	return r.EntriesFiltered(baseEcosystem, name, nil, fn)
}

// EntriesFiltered is Entries that first asks accept (if not nil) whether
// an entry's full ecosystem ("Debian:12") is wanted, and decodes only
// those.
func (r *Reader) EntriesFiltered(baseEcosystem, name string, accept func(ecosystem string) bool, fn func(Entry) error) error {
	prefix := idxPrefix(baseEcosystem, name)
	c := r.tx.Bucket(bucketIdx).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if accept != nil {
			if eco := entryEcosystem(v); eco != nil && !accept(string(eco)) {
				continue
			}
		}
		e, err := decodeEntry(v)
		if err != nil {
			return fmt.Errorf("index key %q: %w", k, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Advisory returns an advisory's summary record, or nil if absent.
func (r *Reader) Advisory(id string) (*Advisory, error) {
	v := r.tx.Bucket(bucketSum).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	a, err := decodeAdvisory(v)
	if err != nil {
		return nil, fmt.Errorf("advisory %s: %w", id, err)
	}
	return a, nil
}

// Raw returns the advisory's original JSON, or nil if absent
// or unreadable.
func (r *Reader) Raw(id string) []byte {
	v := r.tx.Bucket(bucketAdv).Get([]byte(id))
	if v == nil {
		return nil
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(v)), osv.MaxAdvisorySize+1))
	if err != nil {
		return nil
	}
	return out
}

// SourceIDs calls fn with the ID of every advisory of a source.
func (r *Reader) SourceIDs(source string, fn func(id string) error) error {
	prefix := append([]byte(source), 0)
	c := r.tx.Bucket(bucketSrc).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if err := fn(string(k[len(prefix):])); err != nil {
			return err
		}
	}
	return nil
}
