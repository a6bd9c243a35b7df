package sensor

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wardsec/ward/internal/runtime/event"
)

// libpodDB is where Podman (with its BoltDB state, the default before
// Podman 5) keeps each container's configuration, labels included.
const libpodDB = "/var/lib/containers/storage/libpod/bolt_state.db"

// libpodConfig is the part of libpod's ContainerConfig Ward reads.
type libpodConfig struct {
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels"`
	Privileged bool              `json:"privileged"`
	ImageName  string            `json:"rootfsImageName"`
	ImageID    string            `json:"rootfsImageID"`
}

// readLibpod reads a container's configuration from Podman's state
// database, read-only. Podman holds the database's lock only while a
// command runs, so a short timeout is enough; a busy, missing or damaged
// database is an error (the caller keeps what containers.json said).
func readLibpod(path, id string) (cfg libpodConfig, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return cfg, err
	}
	if !st.Mode().IsRegular() {
		return cfg, fmt.Errorf("%s: not a regular file", path)
	}
	// bbolt trusts its file and maps it into memory: a damaged one (say,
	// truncated) faults on access. Turn faults into panics, and panics
	// into an error, so it cannot take the sensor down.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: damaged database: %v", path, r)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) (err error) {
		// Recover here, inside the transaction, so that it is rolled back:
		// Close would wait for it forever otherwise.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: damaged database: %v", path, r)
			}
		}()
		ctrs := tx.Bucket([]byte("ctr"))
		if ctrs == nil {
			return fmt.Errorf("%s: no container bucket", path)
		}
		b := ctrs.Bucket([]byte(id))
		if b == nil {
			return fmt.Errorf("%s: container %s not found", path, ShortID(id))
		}
		raw := b.Get([]byte("config"))
		if len(raw) > maxMetaFile {
			return fmt.Errorf("%s: container %s: configuration larger than %d bytes", path, ShortID(id), maxMetaFile)
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("%s: container %s: %w", path, ShortID(id), err)
		}
		return nil
	})
	return cfg, err
}

// fromLibpod fills labels (and what containers.json lacked) from Podman's
// state database.
func (r *Resolver) fromLibpod(c *event.Container, full string) {
	cfg, err := readLibpod(r.path(libpodDB), full)
	if err != nil {
		return
	}
	if c.Name == "" {
		c.Name = cfg.Name
	}
	if c.Image == "" {
		c.Image = cfg.ImageName
	}
	if c.ImageID == "" {
		c.ImageID = cfg.ImageID
	}
	if cfg.Privileged {
		c.Privileged = true
	}
	keys := make([]string, 0, len(cfg.Labels))
	for k := range cfg.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Labels = append(c.Labels, event.KV{Key: k, Value: cfg.Labels[k]})
	}
}
