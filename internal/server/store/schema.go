package store

import (
	"context"
	"database/sql"
	"strings"
)

// migration is one schema step; after runs Go code in the same
// transaction (backfills).
//
// One text serves both engines, with these substitutions:
//
//	{{id}}    INTEGER PRIMARY KEY (the rowid) | BIGSERIAL PRIMARY KEY
//	{{int}}   INTEGER                         | BIGINT
//	{{blob}}  BLOB                            | BYTEA
//	{{findings_fillfactor}}  SELECT 1 (no-op) | ALTER TABLE findings SET (fillfactor = 70)
//
// (BIGINT alone is valid on both: SQLite gives it INTEGER affinity, but
// only "INTEGER PRIMARY KEY" is the rowid, hence {{id}} and {{int}}.)
type migration struct {
	text  string
	after func(ctx context.Context, s *Store, tx *sql.Tx) error
}

var engineTypes = map[string]*strings.Replacer{
	EngineSQLite: strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY", "{{int}}", "INTEGER", "{{blob}}", "BLOB",
		"{{findings_fillfactor}}", "SELECT 1"),
	EnginePostgres: strings.NewReplacer("{{id}}", "BIGSERIAL PRIMARY KEY", "{{int}}", "BIGINT", "{{blob}}", "BYTEA",
		"{{findings_fillfactor}}", "ALTER TABLE findings SET (fillfactor = 70)"),
}

// sql returns the migration's text for engine.
func (m migration) sql(engine string) string { return engineTypes[engine].Replace(m.text) }

// migrations are applied in order; index+1 is the schema version. Never
// edit an applied migration: add one.
//
// Times are Unix milliseconds, except tokens.created_at and audit.at
// (Unix seconds, as migration 1 made them).
var migrations = []migration{
	{text: `CREATE TABLE targets (
		id {{id}},
		name TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL,
		digest TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE scans (
		id TEXT PRIMARY KEY,
		target_id {{int}} NOT NULL REFERENCES targets(id),
		idempotency_key TEXT NOT NULL UNIQUE,
		tool_version TEXT NOT NULL,
		db_version TEXT NOT NULL DEFAULT '',
		created_at {{int}} NOT NULL,
		findings {{int}} NOT NULL,
		new_findings {{int}} NOT NULL,
		fixed_findings {{int}} NOT NULL,
		report {{blob}} NOT NULL
	);
	CREATE TABLE findings (
		id {{id}},
		target_id {{int}} NOT NULL REFERENCES targets(id),
		fingerprint TEXT NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		rule_id TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		fixable INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL,
		first_seen {{int}} NOT NULL,
		last_seen {{int}} NOT NULL,
		fixed_at {{int}},
		first_scan TEXT NOT NULL,
		last_scan TEXT NOT NULL,
		suppress_reason TEXT NOT NULL DEFAULT '',
		suppress_by TEXT NOT NULL DEFAULT '',
		suppress_until {{int}},
		body {{blob}} NOT NULL,
		UNIQUE (target_id, fingerprint)
	);
	CREATE INDEX findings_status ON findings(status, id);
	CREATE TABLE tokens (
		hash TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		created_at {{int}} NOT NULL
	);
	CREATE TABLE audit (
		id {{id}},
		at {{int}} NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);`},

	// 2: scan sequence numbers per target and seen-runs (finding history),
	// suppression time, materialised open counts and daily trend points,
	// compliance controls, SBOMs, runtime alerts, sensors, users, sessions,
	// leases.
	{text: `ALTER TABLE targets ADD COLUMN last_seq {{int}} NOT NULL DEFAULT 0;
	ALTER TABLE targets ADD COLUMN last_scan_at {{int}};
	ALTER TABLE targets ADD COLUMN last_scan TEXT NOT NULL DEFAULT '';
	ALTER TABLE scans ADD COLUMN seq {{int}} NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN last_seq {{int}} NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN run_start {{int}} NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN suppress_at {{int}};
	` + migration2Common + `
	CREATE TABLE alerts (
		id {{id}},
		node TEXT NOT NULL,
		sensor_id TEXT NOT NULL,
		seq {{int}} NOT NULL,
		at {{int}} NOT NULL,
		received_at {{int}} NOT NULL,
		rule TEXT NOT NULL,
		priority TEXT NOT NULL,
		container_id TEXT NOT NULL,
		container_name TEXT NOT NULL,
		body {{blob}} NOT NULL,
		UNIQUE (sensor_id, seq)
	);
	CREATE TABLE sboms (
		target_id {{int}} PRIMARY KEY REFERENCES targets(id),
		scan_id TEXT NOT NULL,
		created_at {{int}} NOT NULL,
		body {{blob}} NOT NULL
	);` + migration2Indexes,
		after: func(ctx context.Context, s *Store, tx *sql.Tx) error { return s.recountAll(ctx, tx) }},

	// 3: indexes for the dashboard's finding filters, each ending in id so
	// that an equality filter reads a page in id order (keyset pages)
	// instead of sorting every match; targets by type and by digest.
	{text: `DROP INDEX findings_target;
	CREATE INDEX findings_target_status ON findings(target_id, status, id);
	CREATE INDEX findings_status_severity ON findings(status, severity, id);
	CREATE INDEX findings_severity ON findings(severity, id);
	CREATE INDEX findings_kind ON findings(kind, id);
	CREATE INDEX findings_rule ON findings(rule_id, id);
	CREATE INDEX findings_namespace ON findings(namespace, id);
	CREATE INDEX targets_type ON targets(type, id);
	CREATE INDEX targets_digest ON targets(digest);`},

	// 4: PostgreSQL leaves 30% of each findings page free, so that a
	// rescan's update of a finding (last seen, body; no indexed column
	// changed) is a HOT update: no new entry in the table's ten indexes.
	{text: `{{findings_fillfactor}}`},

	// 5: the cluster views (cluster_views.go) read open
	// misconfigurations by namespace and rule, and their distinct rules,
	// from these small partial indexes instead of every finding row.
	{text: `CREATE INDEX findings_open_misconf_ns_rule ON findings(namespace, rule_id) WHERE status = 'open' AND kind = 'misconfiguration';
	CREATE INDEX findings_open_misconf_rule ON findings(rule_id) WHERE status = 'open' AND kind = 'misconfiguration';`},

	// 6: the cosign signature state of each image digest, as the server
	// last checked it (signatures.go); checked_at finds stale checks.
	{text: `CREATE TABLE image_signatures (
		digest TEXT PRIMARY KEY,
		state TEXT NOT NULL,
		signer TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT '',
		ref TEXT NOT NULL DEFAULT '',
		checked_at {{int}} NOT NULL
	);
	CREATE INDEX image_signatures_checked ON image_signatures(checked_at);`},
}

// migration2Common is valid on both engines (BIGINT is an INTEGER to SQLite).
const migration2Common = `UPDATE scans SET seq = (SELECT COUNT(*) FROM scans s2 WHERE s2.target_id = scans.target_id
		AND (s2.created_at < scans.created_at OR (s2.created_at = scans.created_at AND s2.id <= scans.id)));
	UPDATE targets SET last_seq = COALESCE((SELECT MAX(seq) FROM scans WHERE scans.target_id = targets.id), 0),
		last_scan_at = (SELECT MAX(created_at) FROM scans WHERE scans.target_id = targets.id);
	UPDATE targets SET last_scan = COALESCE((SELECT id FROM scans WHERE scans.target_id = targets.id AND scans.seq = targets.last_seq), '');
	UPDATE findings SET last_seq = COALESCE((SELECT seq FROM scans WHERE scans.id = findings.last_scan), 0),
		run_start = COALESCE((SELECT seq FROM scans WHERE scans.id = findings.first_scan), 0);
	CREATE TABLE finding_runs (
		finding_id BIGINT NOT NULL REFERENCES findings(id),
		from_seq BIGINT NOT NULL,
		to_seq BIGINT NOT NULL,
		PRIMARY KEY (finding_id, from_seq)
	);
	CREATE TABLE target_counts (
		target_id BIGINT NOT NULL REFERENCES targets(id),
		namespace TEXT NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		fixable INTEGER NOT NULL,
		n BIGINT NOT NULL,
		PRIMARY KEY (target_id, namespace, kind, severity, fixable)
	);
	CREATE TABLE trend_daily (
		day BIGINT NOT NULL,
		severity TEXT NOT NULL,
		n BIGINT NOT NULL,
		PRIMARY KEY (day, severity)
	);
	CREATE TABLE compliance (
		target_id BIGINT NOT NULL REFERENCES targets(id),
		framework TEXT NOT NULL,
		control TEXT NOT NULL,
		status TEXT NOT NULL,
		PRIMARY KEY (target_id, framework, control)
	);
	CREATE TABLE sensors (
		sensor_id TEXT PRIMARY KEY,
		node TEXT NOT NULL,
		version TEXT NOT NULL,
		started BIGINT NOT NULL,
		last_heartbeat BIGINT NOT NULL,
		events BIGINT NOT NULL,
		drops BIGINT NOT NULL,
		alerts BIGINT NOT NULL,
		spooled BIGINT NOT NULL
	);
	CREATE TABLE users (
		name TEXT PRIMARY KEY,
		hash TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE sessions (
		hash TEXT PRIMARY KEY,
		subject TEXT NOT NULL,
		role TEXT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE TABLE leases (
		name TEXT PRIMARY KEY,
		holder TEXT NOT NULL,
		expires_at BIGINT NOT NULL
	);`

const migration2Indexes = `
	CREATE INDEX findings_target ON findings(target_id, status);
	CREATE INDEX findings_suppressed ON findings(suppress_until) WHERE status = 'suppressed';
	CREATE INDEX scans_target ON scans(target_id, seq);
	CREATE INDEX alerts_node ON alerts(node, id);
	CREATE INDEX alerts_rule ON alerts(rule, id);
	CREATE INDEX alerts_at ON alerts(at);
	CREATE INDEX sessions_expires ON sessions(expires_at);
	CREATE INDEX scans_created ON scans(created_at);`
