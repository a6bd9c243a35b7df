package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

// maxTokenLen bounds the Authorization header value we look at.
const maxTokenLen = 512

// authenticate checks the bearer token and that its role is one of roles:
// 401 without a valid token, 403 for a role that may not.
func (s *Server) authenticate(r *http.Request, roles []string) (caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return caller{}, errorf(http.StatusUnauthorized, "missing Authorization: Bearer <token> header")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return caller{}, errorf(http.StatusUnauthorized, "Authorization header: want \"Bearer <token>\"")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxTokenLen {
		return caller{}, errorf(http.StatusUnauthorized, "invalid token")
	}
	sum := sha256.Sum256([]byte(tok))
	hash := hex.EncodeToString(sum[:])
	role, ok := s.tokens.get(hash)
	if !ok {
		var err error
		role, err = s.st.TokenRole(r.Context(), tok)
		if errors.Is(err, store.ErrUnknownToken) {
			return caller{}, errorf(http.StatusUnauthorized, "invalid token")
		}
		if err != nil {
			return caller{}, err
		}
		s.tokens.put(hash, role)
	}
	c := caller{role: role, actor: "token:" + hash[:12]}
	if !slices.Contains(roles, role) {
		return c, errorf(http.StatusForbidden, "role %q may not %s %s (needs %s)", role, r.Method, r.URL.Path, strings.Join(roles, " or "))
	}
	return c, nil
}

// tokenCache remembers valid tokens' roles (by hash) for a short time, so
// that a fleet of sensors does not cost a database read per request.
// Unknown tokens are never cached.
type tokenCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]tokenEntry
}

type tokenEntry struct {
	role    string
	expires time.Time
}

func newTokenCache(ttl time.Duration, max int) *tokenCache {
	return &tokenCache{ttl: ttl, max: max, m: map[string]tokenEntry{}}
}

func (c *tokenCache) get(hash string) (string, bool) {
	if c.ttl <= 0 {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || time.Now().After(e.expires) {
		delete(c.m, hash)
		return "", false
	}
	return e.role, true
}

func (c *tokenCache) put(hash, role string) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[hash] = tokenEntry{role: role, expires: time.Now().Add(c.ttl)}
}
