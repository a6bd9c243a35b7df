package cli

import (
	"log/slog"
	"net/http"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/web"
)

// serverWeb builds the dashboard `ward server` serves at "/" (the API
// keeps /api/v1, /healthz, /readyz and /metrics).
func serverWeb(version string, log *slog.Logger) func(st *store.Store, tls bool) (http.Handler, error) {
	return func(st *store.Store, tls bool) (http.Handler, error) {
		return web.NewStore(st, web.Options{Logger: log.With("component", "web"), Secure: tls, Version: version})
	}
}
