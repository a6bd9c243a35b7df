package signing

import (
	"container/list"
	"sync"
	"time"
)

// Cache remembers supply-policy decisions per (policy, digest): bounded in
// entries (least recently used evicted) and in age (TTL), safe for
// concurrent use. A manifest digest is immutable, so a decision only goes
// stale when signatures are added or removed, or keys rotate: the TTL
// bounds that window. The admission controller shares one Cache between
// requests, so a repeated image costs a map look-up.
type Cache struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	now     func() time.Time
	ll      *list.List
	items   map[string]*list.Element
	hits    uint64
	misses  uint64
	expired uint64
}

type cacheEntry struct {
	key     string
	dec     *Decision
	expires time.Time
}

// NewCache makes a cache of at most max entries, each kept for ttl.
func NewCache(max int, ttl time.Duration) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, ttl: ttl, now: timeNow, ll: list.New(), items: make(map[string]*list.Element, max)}
}

// Get returns a live decision.
func (c *Cache) Get(key string) (*Decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		c.expired++
		c.misses++
		return nil, false
	}
	c.ll.MoveToFront(el)
	c.hits++
	return e.dec, true
}

// Put stores a decision (a copy of the pointer: callers must not mutate it).
func (c *Cache) Put(key string, d *Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.dec, e.expires = d, exp
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, dec: d, expires: exp})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Entries               int
	Hits, Misses, Expired uint64
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.ll.Len(), Hits: c.hits, Misses: c.misses, Expired: c.expired}
}
