package cli

import (
	"net/http"

	"github.com/wardsec/ward/internal/server/store"
)

// serverWeb builds the dashboard served at "/" (nil: none yet).
var serverWeb func(st *store.Store) (http.Handler, error)
