package store

import (
	"context"
	"database/sql"
)

// migration is one schema step, with its text per engine; after runs Go
// code in the same transaction (backfills).
type migration struct {
	sqlite, postgres string
	after            func(ctx context.Context, s *Store, tx *sql.Tx) error
}

// migrations are applied in order; index+1 is the schema version. Never
// edit an applied migration: add one.
//
// Times are Unix milliseconds, except tokens.created_at and audit.at
// (Unix seconds, as migration 1 made them).
var migrations = []migration{
	{sqlite: `CREATE TABLE targets (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL,
		digest TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE scans (
		id TEXT PRIMARY KEY,
		target_id INTEGER NOT NULL REFERENCES targets(id),
		idempotency_key TEXT NOT NULL UNIQUE,
		tool_version TEXT NOT NULL,
		db_version TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		findings INTEGER NOT NULL,
		new_findings INTEGER NOT NULL,
		fixed_findings INTEGER NOT NULL,
		report BLOB NOT NULL
	);
	CREATE TABLE findings (
		id INTEGER PRIMARY KEY,
		target_id INTEGER NOT NULL REFERENCES targets(id),
		fingerprint TEXT NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		rule_id TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		fixable INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		fixed_at INTEGER,
		first_scan TEXT NOT NULL,
		last_scan TEXT NOT NULL,
		suppress_reason TEXT NOT NULL DEFAULT '',
		suppress_by TEXT NOT NULL DEFAULT '',
		suppress_until INTEGER,
		body BLOB NOT NULL,
		UNIQUE (target_id, fingerprint)
	);
	CREATE INDEX findings_status ON findings(status, id);
	CREATE TABLE tokens (
		hash TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE audit (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
		postgres: `CREATE TABLE targets (
		id BIGSERIAL PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL,
		digest TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE scans (
		id TEXT PRIMARY KEY,
		target_id BIGINT NOT NULL REFERENCES targets(id),
		idempotency_key TEXT NOT NULL UNIQUE,
		tool_version TEXT NOT NULL,
		db_version TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL,
		findings BIGINT NOT NULL,
		new_findings BIGINT NOT NULL,
		fixed_findings BIGINT NOT NULL,
		report BYTEA NOT NULL
	);
	CREATE TABLE findings (
		id BIGSERIAL PRIMARY KEY,
		target_id BIGINT NOT NULL REFERENCES targets(id),
		fingerprint TEXT NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		rule_id TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		fixable INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL,
		first_seen BIGINT NOT NULL,
		last_seen BIGINT NOT NULL,
		fixed_at BIGINT,
		first_scan TEXT NOT NULL,
		last_scan TEXT NOT NULL,
		suppress_reason TEXT NOT NULL DEFAULT '',
		suppress_by TEXT NOT NULL DEFAULT '',
		suppress_until BIGINT,
		body BYTEA NOT NULL,
		UNIQUE (target_id, fingerprint)
	);
	CREATE INDEX findings_status ON findings(status, id);
	CREATE TABLE tokens (
		hash TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE audit (
		id BIGSERIAL PRIMARY KEY,
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);`},

	// 2: scan sequence numbers per target and seen-runs (finding history),
	// suppression time, materialised open counts and daily trend points,
	// compliance controls, SBOMs, runtime alerts, sensors, users, sessions,
	// leases.
	{sqlite: `ALTER TABLE targets ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE targets ADD COLUMN last_scan_at INTEGER;
	ALTER TABLE targets ADD COLUMN last_scan TEXT NOT NULL DEFAULT '';
	ALTER TABLE scans ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN run_start INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN suppress_at INTEGER;
	` + migration2Common + `
	CREATE TABLE alerts (
		id INTEGER PRIMARY KEY,
		node TEXT NOT NULL,
		sensor_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		at INTEGER NOT NULL,
		received_at INTEGER NOT NULL,
		rule TEXT NOT NULL,
		priority TEXT NOT NULL,
		container_id TEXT NOT NULL,
		container_name TEXT NOT NULL,
		body BLOB NOT NULL,
		UNIQUE (sensor_id, seq)
	);
	CREATE TABLE sboms (
		target_id INTEGER PRIMARY KEY REFERENCES targets(id),
		scan_id TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		body BLOB NOT NULL
	);` + migration2Indexes,
		postgres: `ALTER TABLE targets ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE targets ADD COLUMN last_scan_at BIGINT;
	ALTER TABLE targets ADD COLUMN last_scan TEXT NOT NULL DEFAULT '';
	ALTER TABLE scans ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN run_start BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE findings ADD COLUMN suppress_at BIGINT;
	` + migration2Common + `
	CREATE TABLE alerts (
		id BIGSERIAL PRIMARY KEY,
		node TEXT NOT NULL,
		sensor_id TEXT NOT NULL,
		seq BIGINT NOT NULL,
		at BIGINT NOT NULL,
		received_at BIGINT NOT NULL,
		rule TEXT NOT NULL,
		priority TEXT NOT NULL,
		container_id TEXT NOT NULL,
		container_name TEXT NOT NULL,
		body BYTEA NOT NULL,
		UNIQUE (sensor_id, seq)
	);
	CREATE TABLE sboms (
		target_id BIGINT PRIMARY KEY REFERENCES targets(id),
		scan_id TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		body BYTEA NOT NULL
	);` + migration2Indexes,
		after: func(ctx context.Context, s *Store, tx *sql.Tx) error { return s.recountAll(ctx, tx) }},
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
