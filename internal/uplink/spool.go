package uplink

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Spool is an on-disk FIFO of alerts numbered by a sequence. Alerts are
// appended as JSON lines to segment files named by their first sequence
// number (SEQ.seg) and fsynced per Append. The acknowledged sequence is
// kept in the file "acked". When the spool's size passes its bound, the
// oldest segments are deleted and their unacknowledged alerts counted as
// dropped.
type Spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu      sync.Mutex
	segs    []segment // oldest first
	cur     *os.File  // last segment, open for appending
	next    uint64    // sequence of the next appended alert
	acked   uint64    // every sequence < acked is delivered
	total   int64
	dropped uint64
	// cursor: byte offset in segment curFirst of the line of sequence
	// curSeq, so Peek does not reread what was already delivered.
	curFirst, curSeq uint64
	curOff           int64
	curOK            bool
}

type segment struct {
	first uint64 // first sequence
	n     uint64 // alerts in it
	size  int64
}

type spoolLine struct {
	Seq   uint64          `json:"seq"`
	Alert json.RawMessage `json:"alert"`
}

// OpenSpool opens or creates a spool in dir bounded to maxBytes (≤0: 256 MiB).
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segBytes: max(maxBytes/16, 64<<10)}
	if b, err := os.ReadFile(filepath.Join(dir, "acked")); err == nil {
		v, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("spool %s: bad acked file: %w", dir, perr)
		}
		s.acked = v
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("spool: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".seg") {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, ".seg"), 10, 64)
		if err != nil {
			continue
		}
		seg, err := s.scan(first)
		if err != nil {
			return nil, err
		}
		s.segs = append(s.segs, seg)
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].first < s.segs[j].first })
	s.next = s.acked
	for _, g := range s.segs {
		s.total += g.size
		s.next = max(s.next, g.first+g.n)
	}
	s.gc()
	return s, nil
}

// scan counts the complete lines of a segment and truncates a torn last
// line (a crash mid-write).
func (s *Spool) scan(first uint64) (segment, error) {
	p := s.segPath(first)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return segment{}, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var good int64
	var n uint64
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return segment{}, fmt.Errorf("spool %s: %w", p, err)
		}
		var l spoolLine
		if json.Unmarshal(line, &l) != nil || l.Seq != first+n {
			break
		}
		good += int64(len(line))
		n++
	}
	if err := f.Truncate(good); err != nil {
		return segment{}, fmt.Errorf("spool %s: %w", p, err)
	}
	return segment{first: first, n: n, size: good}, nil
}

func (s *Spool) segPath(first uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d.seg", first))
}

// Append adds alerts (JSON each) and fsyncs them. It returns the sequence
// of the first.
func (s *Spool) Append(alerts []json.RawMessage) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.next
	if len(alerts) == 0 {
		return first, nil
	}
	last := len(s.segs) - 1
	if s.cur == nil || last < 0 || s.segs[last].size >= s.segBytes || s.segs[last].first+s.segs[last].n != s.next {
		if s.cur != nil {
			s.cur.Close()
			s.cur = nil
		}
		if last < 0 || s.segs[last].size >= s.segBytes || s.segs[last].first+s.segs[last].n != s.next {
			s.segs = append(s.segs, segment{first: s.next})
		}
		f, err := os.OpenFile(s.segPath(s.segs[len(s.segs)-1].first), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		s.cur = f
	}
	var buf []byte
	for i, a := range alerts {
		b, err := json.Marshal(spoolLine{Seq: s.next + uint64(i), Alert: a})
		if err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := s.cur.Write(buf); err != nil {
		return 0, fmt.Errorf("spool %s: %w", s.cur.Name(), err)
	}
	if err := s.cur.Sync(); err != nil {
		return 0, fmt.Errorf("spool %s: %w", s.cur.Name(), err)
	}
	g := &s.segs[len(s.segs)-1]
	g.n += uint64(len(alerts))
	g.size += int64(len(buf))
	s.total += int64(len(buf))
	s.next += uint64(len(alerts))
	s.gc()
	return first, nil
}

// gc deletes acknowledged segments and, over the bound, the oldest ones.
func (s *Spool) gc() {
	for len(s.segs) > 0 {
		g := s.segs[0]
		done := g.first+g.n <= s.acked && (len(s.segs) > 1 || s.cur == nil)
		over := s.total > s.maxBytes && len(s.segs) > 1
		if !done && !over {
			return
		}
		if !done {
			lost := g.first + g.n - max(s.acked, g.first)
			s.dropped += lost
			s.acked = max(s.acked, g.first+g.n)
		}
		_ = os.Remove(s.segPath(g.first))
		s.total -= g.size
		s.segs = s.segs[1:]
	}
}

// Peek returns up to max unacknowledged alerts in order, all from one
// segment so their sequences are consecutive from first.
func (s *Spool) Peek(maxN int) (first uint64, alerts []json.RawMessage, err error) {
	s.mu.Lock()
	var g *segment
	for i := range s.segs {
		if s.segs[i].first+s.segs[i].n > s.acked {
			g = &s.segs[i]
			break
		}
	}
	if g == nil {
		next := s.next
		s.mu.Unlock()
		return next, nil, nil
	}
	seg := *g
	from := max(s.acked, seg.first)
	start, off := seg.first, int64(0)
	if s.curOK && s.curFirst == seg.first && s.curSeq <= from {
		start, off = s.curSeq, s.curOff
	}
	s.mu.Unlock()
	f, err := os.Open(s.segPath(seg.first))
	if err != nil {
		return 0, nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, nil, fmt.Errorf("spool %s: %w", f.Name(), err)
	}
	r := bufio.NewReader(f)
	defer func() {
		if err == nil {
			s.mu.Lock()
			s.curFirst, s.curSeq, s.curOff, s.curOK = seg.first, start, off, true
			s.mu.Unlock()
		}
	}()
	for idx := start; idx < seg.first+seg.n && len(alerts) < maxN; idx++ {
		line, rerr := r.ReadBytes('\n')
		if rerr != nil {
			return 0, nil, fmt.Errorf("spool %s: %w", f.Name(), rerr)
		}
		if idx < from {
			start, off = idx+1, off+int64(len(line))
			continue
		}
		var l spoolLine
		if err := json.Unmarshal(bytes.TrimSpace(line), &l); err != nil || l.Seq != idx {
			return 0, nil, fmt.Errorf("spool %s: corrupt line for seq %d", f.Name(), idx)
		}
		alerts = append(alerts, l.Alert)
	}
	return from, alerts, nil
}

// Ack records that every sequence < upto is delivered (fsynced).
func (s *Spool) Ack(upto uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if upto <= s.acked {
		return nil
	}
	s.acked = upto
	tmp := filepath.Join(s.dir, "acked.tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(upto, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, "acked"))
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.gc()
	return nil
}

// Pending is the number of alerts not yet acknowledged.
func (s *Spool) Pending() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next - s.acked
}

// Dropped is the number of alerts deleted unsent because of the bound.
func (s *Spool) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close closes the open segment.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		err := s.cur.Close()
		s.cur = nil
		return err
	}
	return nil
}
