package api

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
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

// parseLimit reads limit=N (1..1000; empty: 0, the endpoint's default).
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
