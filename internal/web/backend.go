package web

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Backend is what the dashboard reads and changes: the server store's
// methods of the Wave-3 store contract (docs/dashboard.md). The types
// mirror the store's, so that an adapter over *store.Store only copies
// fields and maps the sentinel errors below.
type Backend interface {
	TokenRole(ctx context.Context, token string) (role string, err error)
	CheckUser(ctx context.Context, name, password string) (role string, err error)
	CreateSession(ctx context.Context, subject, role string, ttl time.Duration) (id string, err error)
	Session(ctx context.Context, id string) (subject, role string, err error)
	DeleteSession(ctx context.Context, id string) error
	Counts(ctx context.Context) (Counts, error)
	Trends(ctx context.Context, days int) ([]TrendPoint, error)
	Findings(ctx context.Context, f FindingFilter) (items []StoredFinding, next string, err error)
	Finding(ctx context.Context, id int64) (StoredFinding, []ScanRef, error)
	Suppress(ctx context.Context, id int64, reason, actor string, until *time.Time) error
	Unsuppress(ctx context.Context, id int64, actor string) error
	Alerts(ctx context.Context, f AlertFilter) (items []StoredAlert, next string, err error)
	// Alert is one alert by id (ErrNotFound): an addition to the store
	// contract, for the alert detail page.
	Alert(ctx context.Context, id int64) (StoredAlert, error)
}

// Errors a Backend returns (wrapped or not) for the dashboard to branch on.
var (
	// ErrUnknownToken: unknown or expired token or session.
	ErrUnknownToken = errors.New("unknown token")
	// ErrBadCredentials: wrong user name or password.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrNotFound: no object with that id (answered 404).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a bad filter or argument (answered 400).
	ErrInvalid = errors.New("invalid argument")
)

// Counts are the open findings by severity and by kind.
type Counts struct {
	BySeverity map[string]int
	ByKind     map[string]int
	Total      int
	// NewestScan is the time of the newest stored scan (zero: none).
	NewestScan time.Time
	// DBVersion is the vulnerability database version of the newest scan.
	DBVersion string
}

// TrendPoint is one day of open findings by severity.
type TrendPoint struct {
	Day  time.Time
	Open map[string]int
}

// FindingFilter selects findings; Severity is a level name or "HIGH+"
// (that level and above). Limit defaults to 100.
type FindingFilter struct {
	Kind, Severity, Target, Namespace, Rule, Status string
	Fixable                                         *bool
	Since                                           time.Time
	Cursor                                          string
	Limit                                           int
}

// StoredFinding is one finding with its lifecycle.
type StoredFinding struct {
	ID         int64
	Target     string
	TargetType string
	// Finding is the report's finding JSON (pkg/finding.Finding).
	Finding     json.RawMessage
	Status      string
	FirstSeen   time.Time
	LastSeen    time.Time
	FixedAt     *time.Time
	Suppression *Suppression
}

// Suppression is an admin's decision to hide a finding.
type Suppression struct {
	Reason, By string
	At         time.Time
	Until      *time.Time
}

// ScanRef is one scan that saw a finding.
type ScanRef struct {
	ScanID      string
	At          time.Time
	ToolVersion string
}

// AlertFilter selects runtime alerts, newest first. Limit defaults to 100.
type AlertFilter struct {
	Node, Rule, Priority, Container string
	Since                           time.Time
	Cursor                          string
	Limit                           int
}

// StoredAlert is one runtime alert as a sensor sent it.
type StoredAlert struct {
	ID       int64
	Node     string
	SensorID string
	Seq      int64
	At       time.Time
	Rule     string
	Priority string
	// Alert is the Falco-shaped JSON (internal/runtime/alert.Alert).
	Alert json.RawMessage
}
