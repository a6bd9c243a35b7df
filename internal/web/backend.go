package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/report"
)

// Backend is what the dashboard reads and changes: a subset of the
// server store's methods (internal/server/store). *store.Store implements
// it; tests wrap a real store to inject failures.
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
	Alert(ctx context.Context, id int64) (StoredAlert, error)
	Targets(ctx context.Context, typ, cursor string, limit int) ([]TargetSummary, string, error)
	Target(ctx context.Context, name string) (TargetSummary, error)
	TargetSBOM(ctx context.Context, name string) (*report.Report, error)
	Namespaces(ctx context.Context) ([]NamespaceSummary, error)
	Compliance(ctx context.Context) ([]ComplianceScore, error)
	NamespacePostures(ctx context.Context) ([]store.NamespacePosture, error)
	ComplianceControls(ctx context.Context, framework string) ([]store.ComplianceControl, error)
	ComplianceFindings(ctx context.Context, framework, control, cursor string, limit int) ([]StoredFinding, string, error)
	Nodes(ctx context.Context) ([]Node, error)
}

var _ Backend = (*store.Store)(nil)

// NewStore returns the dashboard over the server store, to be mounted at
// "/" by `ward server` (the API keeps /api/v1, /healthz, /readyz and
// /metrics).
func NewStore(st *store.Store, opts Options) (http.Handler, error) {
	if st == nil {
		return nil, errors.New("web: nil store")
	}
	return New(st, opts)
}

// The store's types, used as they are.
type (
	Counts           = store.Counts
	TrendPoint       = store.TrendPoint
	FindingFilter    = store.FindingFilter
	StoredFinding    = store.StoredFinding
	Suppression      = store.Suppression
	ScanRef          = store.ScanRef
	AlertFilter      = store.AlertFilter
	StoredAlert      = store.StoredAlert
	TargetSummary    = store.TargetSummary
	NamespaceSummary = store.NamespaceSummary
	ComplianceScore  = store.ComplianceScore
	Node             = store.Node
)

// Errors a Backend returns (wrapped) for the dashboard to branch on: the
// store's sentinels.
var (
	// ErrUnknownToken: unknown or expired token or session.
	ErrUnknownToken = store.ErrUnknownToken
	// ErrBadCredentials: wrong user name or password.
	ErrBadCredentials = store.ErrBadCredentials
	// ErrNotFound: no object with that id (answered 404).
	ErrNotFound = store.ErrNotFound
	// ErrInvalid: a bad filter or argument (answered 400).
	ErrInvalid = store.ErrInvalid
)
