package secret

// acMatcher is an ASCII case-insensitive Aho-Corasick automaton compiled to
// a dense DFA over byte classes. Scanning costs one table lookup per input
// byte; bytes that occur in no keyword share class 0, which keeps the table
// small (states x classes int32).
type acMatcher struct {
	class    [256]uint8
	nclass   int
	delta    []int32 // state*nclass + class -> next state
	out      [][]int32
	hasOut   []bool
	patterns []string // lower-cased keywords, index = pattern id
	lens     []int
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// newACMatcher builds the automaton; patterns are matched case-insensitively
// (ASCII). Empty patterns are ignored.
func newACMatcher(patterns []string) *acMatcher {
	m := &acMatcher{}
	// Byte classes: every distinct lower-cased byte in a pattern gets a
	// class; upper-case letters share their lower-case class.
	next := uint8(1)
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			c := lowerASCII(p[i])
			if m.class[c] == 0 {
				m.class[c] = next
				next++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	m.nclass = int(next)

	// Trie.
	type node struct {
		next map[uint8]int32
		fail int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, p := range patterns {
		m.patterns = append(m.patterns, lowerString(p))
		m.lens = append(m.lens, len(p))
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[lowerASCII(p[i])]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	// BFS for failure links and the dense transition table.
	n := len(nodes)
	m.delta = make([]int32, n*m.nclass)
	queue := make([]int32, 0, n)
	for c := 0; c < m.nclass; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok {
			nodes[t].fail = 0
			m.delta[c] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < m.nclass; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				nodes[t].fail = m.delta[int(f)*m.nclass+c]
				m.delta[int(s)*m.nclass+c] = t
				queue = append(queue, t)
			} else {
				m.delta[int(s)*m.nclass+c] = m.delta[int(f)*m.nclass+c]
			}
		}
	}
	m.out = make([][]int32, n)
	m.hasOut = make([]bool, n)
	for i := range nodes {
		m.out[i] = nodes[i].out
		m.hasOut[i] = len(nodes[i].out) > 0
	}
	return m
}

func lowerString(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lowerASCII(b[i])
	}
	return string(b)
}

// scan calls hit(pattern, end) for every occurrence of a pattern in data,
// where end is the offset just past the occurrence.
func (m *acMatcher) scan(data []byte, hit func(pattern int32, end int)) {
	if len(m.delta) == 0 {
		return
	}
	delta, class, nc, hasOut := m.delta, &m.class, m.nclass, m.hasOut
	s := int32(0)
	for i, b := range data {
		s = delta[int(s)*nc+int(class[b])]
		if hasOut[s] {
			for _, p := range m.out[s] {
				hit(p, i+1)
			}
		}
	}
}
