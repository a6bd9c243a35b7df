package signing

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewCache(2, time.Minute)
	c.now = func() time.Time { return now }
	a, b, d := &Decision{Image: "a"}, &Decision{Image: "b"}, &Decision{Image: "d"}
	c.Put("a", a)
	c.Put("b", b)
	if got, ok := c.Get("a"); !ok || got != a {
		t.Fatal("a missing")
	}
	c.Put("d", d) // evicts b, the least recently used
	if _, ok := c.Get("b"); ok {
		t.Fatal("b not evicted")
	}
	if _, ok := c.Get("a"); !ok {
		t.Fatal("a evicted")
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Fatal("a not expired after the TTL")
	}
	st := c.Stats()
	if st.Entries != 1 || st.Hits != 2 || st.Expired != 1 || st.Misses != 2 {
		t.Fatalf("stats %+v", st)
	}
	c.Put("d", a) // refresh replaces
	if got, _ := c.Get("d"); got != a {
		t.Fatal("refresh did not replace")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(64, time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				k := fmt.Sprint(i % 100)
				c.Put(k, &Decision{})
				c.Get(k)
			}
		}(g)
	}
	wg.Wait()
	if n := c.Stats().Entries; n > 64 {
		t.Fatalf("%d entries, bound 64", n)
	}
}
