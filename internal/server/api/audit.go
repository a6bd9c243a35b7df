package api

import (
	"net/http"
	"time"
)

// defaultAuditN is the default number of audit entries.
const defaultAuditN = 100

type auditItem struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

// getAudit answers the newest audit entries (token creations, ...).
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request, _ caller) error {
	if err := onlyParams(r, []string{"limit"}); err != nil {
		return err
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultAuditN
	}
	es, err := s.st.Audit(r.Context(), limit)
	if err != nil {
		return err
	}
	items := make([]auditItem, 0, len(es))
	for _, e := range es {
		items = append(items, auditItem{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}
