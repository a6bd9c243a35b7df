package api

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

// maxLimit is the largest page size.
const maxLimit = 1000

// onlyParams rejects query parameters the endpoint does not know (a typo
// would otherwise silently widen a query) and repeated ones.
func onlyParams(r *http.Request, known []string) error {
	q := r.URL.Query()
	var bad []string
	for k, v := range q {
		if !slices.Contains(known, k) {
			bad = append(bad, k)
			continue
		}
		if len(v) > 1 {
			return badRequest("query parameter %q given %d times", k, len(v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		if len(known) == 0 {
			return badRequest("unknown query parameter %q (this endpoint takes none)", bad[0])
		}
		return badRequest("unknown query parameter %q (known: %s)", bad[0], strings.Join(known, ", "))
	}
	return nil
}

// parseLimit reads limit=N (1..1000; empty: the store's default).
func parseLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit=%q: want an integer from 1 to %d", v, maxLimit)
	}
	return n, nil
}

// parseSince reads since= as RFC 3339 time, or a duration back from now
// (e.g. 24h, 90m, 7d).
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if d, ok := parseAge(v); ok {
		return time.Now().Add(-d).UTC(), nil
	}
	return time.Time{}, badRequest("since=%q: want an RFC 3339 time (2026-01-02T15:04:05Z) or an age (24h, 7d)", v)
}

func parseAge(v string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100000 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// parseBool reads true/false (empty: unset).
func parseBool(name, v string) (*bool, error) {
	switch v {
	case "":
		return nil, nil
	case "true", "1":
		t := true
		return &t, nil
	case "false", "0":
		f := false
		return &f, nil
	}
	return nil, badRequest("%s=%q: want true or false", name, v)
}

// parseID reads the {id} path value.
func parseID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("%s: id %q: want a positive integer", r.URL.Path, v)
	}
	return id, nil
}

// storeQueryError turns the store's caller errors into 400 and 404.
func storeQueryError(err error) error {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return badRequest("%s", strings.TrimPrefix(err.Error(), "store: "))
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "%s", strings.TrimPrefix(err.Error(), "store: "))
	}
	return err
}
