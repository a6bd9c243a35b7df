package secret

// acMatcher is an ASCII case-insensitive Aho-Corasick automaton compiled to
// a dense DFA over byte classes. Scanning costs one table lookup per input
// byte; bytes that occur in no keyword share class 0, which keeps the table
// small (states x classes int32).
type acMatcher struct {
	class  [256]uint8
	nclass int
	delta  []int32 // state*nclass + class -> next state (build time only)
	pdelta []int32 // premultiplied: state*nclass + class -> next*nclass
	out    [][]int32
	// States firstOut and above (premultiplied: pfirst) have outputs.
	firstOut int32
	pfirst   int32
	patterns []string // lower-cased keywords, index = pattern id
	lens     []int
	maxLen   int
	// spare holds per-stream hit buffers; an acMatcher is therefore not
	// safe for concurrent scans: each worker clones it (see clone).
	spare [8][]acHit
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

	// Trie: children in a flat table (node*nclass + class), 0 meaning no
	// child (the root is nobody's child).
	type node struct {
		fail int32
		out  []int32
	}
	nc := m.nclass
	total := 1
	for _, p := range patterns {
		total += len(p)
	}
	nodes := make([]node, 1, total)
	trie := make([]int32, nc, total*nc)
	zero := make([]int32, nc)
	for id, p := range patterns {
		m.patterns = append(m.patterns, lowerString(p))
		m.lens = append(m.lens, len(p))
		if len(p) > m.maxLen {
			m.maxLen = len(p)
		}
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(m.class[lowerASCII(p[i])])
			t := trie[int(s)*nc+c]
			if t == 0 {
				t = int32(len(nodes))
				nodes = append(nodes, node{})
				trie = append(trie, zero...)
				trie[int(s)*nc+c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	// BFS for failure links and the dense transition table.
	n := len(nodes)
	m.delta = make([]int32, n*nc)
	queue := make([]int32, 0, n)
	for c := 0; c < nc; c++ {
		if t := trie[c]; t != 0 {
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
		for c := 0; c < nc; c++ {
			if t := trie[int(s)*nc+c]; t != 0 {
				nodes[t].fail = m.delta[int(f)*nc+c]
				m.delta[int(s)*nc+c] = t
				queue = append(queue, t)
			} else {
				m.delta[int(s)*nc+c] = m.delta[int(f)*nc+c]
			}
		}
	}
	// Renumber the states so that those with outputs come last: a state
	// has outputs iff its number is at least firstOut, and the scan loop
	// tests that with arithmetic on the states it already holds instead
	// of a table load per stream and byte. The root stays state 0.
	perm := make([]int32, n)
	next32 := int32(0)
	for pass := 0; pass < 2; pass++ {
		for i := range nodes {
			if (len(nodes[i].out) > 0) == (pass == 1) {
				perm[i] = next32
				next32++
			}
			if pass == 0 && i == n-1 {
				m.firstOut = next32
			}
		}
	}
	m.out = make([][]int32, n)
	for i := range nodes {
		m.out[perm[i]] = nodes[i].out
	}
	// Premultiplied table: entries hold next*nclass so the scan loop does
	// one add and one load per byte.
	m.pdelta = make([]int32, len(m.delta))
	for i := range nodes {
		row := m.delta[i*nc : (i+1)*nc]
		prow := m.pdelta[int(perm[i])*nc:]
		for c, t := range row {
			prow[c] = perm[t] * int32(nc)
		}
	}
	m.delta = nil
	m.pfirst = m.firstOut * int32(nc)
	return m
}

func lowerString(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lowerASCII(b[i])
	}
	return string(b)
}

// acHit is one keyword occurrence: the state reached (its outputs are the
// keywords ending there) and the offset just past it.
type acHit struct {
	state int32
	end   int32
}

// scan appends every position where some keyword ends to hits, in
// increasing order. Patterns ending there are m.out[hit.state]. Positions
// are int32: callers scan chunks of at most a few MiB.
//
// Inputs of 2 KiB or more are split into eight parts scanned by eight
// interleaved automata: each table lookup depends on the previous one, so a
// single stream is bound by load latency; independent streams overlap their
// loads (8 streams measured about 2x faster than 4, 8x faster than 1). An
// automaton's state depends only on the last maxLen-1 bytes, so each part's
// start state is found by replaying those bytes.
func (m *acMatcher) scan(data []byte, hits []acHit) []acHit {
	if len(m.pdelta) == 0 {
		return hits
	}
	n := len(data)
	if n < 2048 {
		_, hits = m.scanFrom(0, data, 0, hits)
		return hits
	}
	const K = 8
	q := n / K
	var st [K]int32
	for k := 1; k < K; k++ {
		from := k*q - (m.maxLen - 1)
		if from < 0 {
			from = 0
		}
		st[k], _ = m.scanFrom(0, data[from:k*q], -1, nil)
	}
	d0, d1, d2, d3 := data[:q], data[q:2*q], data[2*q:3*q], data[3*q:4*q]
	d4, d5, d6, d7 := data[4*q:5*q], data[5*q:6*q], data[6*q:7*q], data[7*q:8*q]
	delta, class, t := m.pdelta, &m.class, m.pfirst
	s0, s1, s2, s3, s4, s5, s6, s7 := int32(0), st[1], st[2], st[3], st[4], st[5], st[6], st[7]
	_, _, _, _, _, _, _ = d1[len(d0)-1], d2[len(d0)-1], d3[len(d0)-1], d4[len(d0)-1], d5[len(d0)-1], d6[len(d0)-1], d7[len(d0)-1]
	for i := range d0 {
		s0 = delta[s0+int32(class[d0[i]])]
		s1 = delta[s1+int32(class[d1[i]])]
		s2 = delta[s2+int32(class[d2[i]])]
		s3 = delta[s3+int32(class[d3[i]])]
		s4 = delta[s4+int32(class[d4[i]])]
		s5 = delta[s5+int32(class[d5[i]])]
		s6 = delta[s6+int32(class[d6[i]])]
		s7 = delta[s7+int32(class[d7[i]])]
		// s-t is negative for a state without outputs: the AND of eight
		// such differences is negative unless some stream has a hit.
		if (s0-t)&(s1-t)&(s2-t)&(s3-t)&(s4-t)&(s5-t)&(s6-t)&(s7-t) >= 0 {
			m.record(i, q, [K]int32{s0, s1, s2, s3, s4, s5, s6, s7})
		}
	}
	hits = append(hits, m.spare[0]...)
	for k := 1; k < K; k++ {
		hits = append(hits, m.spare[k]...)
	}
	for k := range m.spare {
		m.spare[k] = m.spare[k][:0]
	}
	_, hits = m.scanFrom(s7, data[K*q:], K*q, hits)
	return hits
}

// record appends the hits of position i of each stream to its buffer.
func (m *acMatcher) record(i, q int, s [8]int32) {
	nc := int32(m.nclass)
	for k, st := range s {
		if st >= m.pfirst {
			m.spare[k] = append(m.spare[k], acHit{state: st / nc, end: int32(k*q + i + 1)})
		}
	}
}

// scanFrom runs the automaton from premultiplied state s over data, whose
// first byte is at offset base; base < 0 discards hits (replay).
func (m *acMatcher) scanFrom(s int32, data []byte, base int, hits []acHit) (int32, []acHit) {
	delta, class, t := m.pdelta, &m.class, m.pfirst
	nc := int32(m.nclass)
	for i, b := range data {
		s = delta[s+int32(class[b])]
		if s >= t && base >= 0 {
			hits = append(hits, acHit{state: s / nc, end: int32(base + i + 1)})
		}
	}
	return s, hits
}

// clone returns a matcher sharing the tables with its own scratch buffers.
func (m *acMatcher) clone() *acMatcher {
	c := *m
	c.spare = [8][]acHit{}
	return &c
}
