package admission

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func typesUID(s string) types.UID { return types.UID(s) }

// ttlCache is a small bounded map with expiry.
type ttlCache[V any] struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v   V
	exp time.Time
}

func newTTLCache[V any](max int, ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{max: max, ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || time.Now().After(e.exp) {
		var z V
		return z, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		now := time.Now()
		for k2, e := range c.m {
			if now.After(e.exp) || len(c.m) >= c.max {
				delete(c.m, k2)
			}
		}
	}
	c.m[k] = ttlEntry[V]{v: v, exp: time.Now().Add(c.ttl)}
}

// CachedNamespaces wraps a lookup with a TTL cache.
func CachedNamespaces(f NamespaceLabels, ttl time.Duration, max int) NamespaceLabels {
	c := newTTLCache[map[string]string](max, ttl)
	return func(ctx context.Context, ns string) (map[string]string, error) {
		if v, ok := c.get(ns); ok {
			return v, nil
		}
		v, err := f(ctx, ns)
		if err != nil {
			return nil, err
		}
		c.put(ns, v)
		return v, nil
	}
}
