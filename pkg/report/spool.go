package report

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// A Spool holds a report's findings while a scan produces them, so that
// a report of millions of findings does not hold millions of Finding
// values: for the streaming formats (json, sarif) each finding is
// rendered once as it arrives, and the rendered chunks, with their sort
// keys, are kept up to a memory budget, then spilled as sorted runs to a
// temporary file and merged back in order when the report is written. The
// summary, the exit-code decision and per-rule counts are tallied on the
// way in. The table renders each finding as its row's cells (table_stream.go);
// junit and template keep the findings as values.
//
// A Spool is not safe for concurrent use. Close it to remove its file.
type Spool struct {
	enc    chunkEncoder // nil: values are kept
	dir    string
	budget int

	values []finding.Finding

	ents []entry
	buf  []byte
	seq  uint64
	file *os.File
	runs []spoolRun
	err  error

	tally tally
}

// SpoolOptions configure a Spool.
type SpoolOptions struct {
	// Dir holds the temporary file of spilled runs ("" is os.TempDir());
	// the directory of the report file is a good choice: it has room for
	// a report.
	Dir string
	// Budget is the memory held for rendered findings before a run is
	// spilled (default 8 MiB).
	Budget int
}

// NewSpool returns a Spool for a report written in format (a name New
// accepts).
func NewSpool(format string, opts SpoolOptions) (*Spool, error) {
	s := &Spool{dir: opts.Dir, budget: opts.Budget, tally: newTally()}
	if s.budget <= 0 {
		s.budget = 8 << 20
	}
	switch strings.ToLower(format) {
	case "json":
		s.enc = newJSONEncoder()
	case "sarif":
		s.enc = newSARIFEncoder()
	case "table", "":
		s.enc = newTableEncoder()
	case "junit", "template":
	default:
		return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
	}
	return s, nil
}

// spoolOf is a Spool of findings already in memory (a Report without one).
func spoolOf(fs []finding.Finding, enc chunkEncoder) (*Spool, error) {
	s := &Spool{enc: enc, budget: 8 << 20, tally: newTally()}
	for i := range fs {
		if err := s.Add(&fs[i]); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// chunkEncoder renders a finding for a streaming writer.
type chunkEncoder interface {
	// encode appends f's chunk to dst and fills the parts of e the
	// format uses (group, flags); keep is false for findings the format
	// leaves out.
	encode(dst []byte, f *finding.Finding, e *entry) (out []byte, keep bool, err error)
}

// entry is a rendered finding: its sort key and where its chunk is.
type entry struct {
	key sortKey
	// split is a format-specific offset in the chunk (SARIF: where the
	// rule index goes); flags are format-specific bits.
	split int
	flags uint8
	// off and end delimit the chunk in the run buffer.
	off, end int
}

// sortKey orders chunks as finding.Sort orders findings, after a
// format-specific group (SARIF: one run per kind) and before the arrival
// order, which makes the order stable.
type sortKey struct {
	group        uint8
	target, path string
	line, col    int
	sev          finding.Severity
	rule, fp     string
	seq          uint64
}

func keyOf(f *finding.Finding) sortKey {
	return sortKey{target: f.Target, path: f.Location.Path, line: f.Location.StartLine, col: f.Location.StartColumn,
		sev: f.Severity, rule: f.RuleID, fp: f.Fingerprint}
}

func (a *sortKey) less(b *sortKey) bool {
	if a.group != b.group {
		return a.group < b.group
	}
	if a.target != b.target {
		return a.target < b.target
	}
	if a.path != b.path {
		return a.path < b.path
	}
	if a.line != b.line {
		return a.line < b.line
	}
	if a.col != b.col {
		return a.col < b.col
	}
	if a.sev != b.sev {
		return a.sev > b.sev
	}
	if a.rule != b.rule {
		return a.rule < b.rule
	}
	if a.fp != b.fp {
		return a.fp < b.fp
	}
	return a.seq < b.seq
}

// Add tallies f and keeps it (rendered, or as a value). Writers never
// filter: add only what the report shows.
func (s *Spool) Add(f *finding.Finding) error {
	if s.err != nil {
		return s.err
	}
	s.tally.add(f)
	if s.enc == nil {
		s.values = append(s.values, *f)
		return nil
	}
	if cap(s.buf)-len(s.buf) < 64<<10 && cap(s.buf) < s.budget {
		// Grow by doubling up to the budget, once per spool: appends of
		// chunks then never copy the run.
		n := min(max(2*cap(s.buf), 1<<20), s.budget+256<<10)
		s.buf = append(make([]byte, 0, n), s.buf...)
	}
	e := entry{key: keyOf(f), off: len(s.buf)}
	e.key.seq = s.seq
	s.seq++
	out, keep, err := s.enc.encode(s.buf, f, &e)
	if err != nil {
		s.err = fmt.Errorf("rendering finding %s at %s: %w", f.RuleID, f.Location.Position(), err)
		return s.err
	}
	if !keep {
		return nil
	}
	s.buf = out
	e.end = len(s.buf)
	s.ents = append(s.ents, e)
	if len(s.buf) >= s.budget {
		if err := s.spill(); err != nil {
			s.err = err
			return err
		}
	}
	return nil
}

// Len is the number of findings added.
func (s *Spool) Len() int { return s.tally.added }

// Failing is the number of findings added that count as problems
// (Failing).
func (s *Spool) Failing() int { return s.tally.failing }

// RuleCounts returns the number of unsuppressed findings of each rule.
func (s *Spool) RuleCounts() map[string]int { return s.tally.rules }

// Values returns the findings of a Spool for table or junit, sorted.
func (s *Spool) Values() []finding.Finding {
	finding.Sort(s.values)
	return s.values
}

// Close removes the temporary file.
func (s *Spool) Close() error {
	s.ents, s.buf, s.values = nil, nil, nil
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	os.Remove(name)
	s.file = nil
	return err
}

// spoolRun is a sorted run in the temporary file.
type spoolRun struct {
	off, size int64
}

func (s *Spool) sortRun() {
	slices.SortFunc(s.ents, func(a, b entry) int {
		if a.key.less(&b.key) {
			return -1
		}
		return 1
	})
}

// spill writes the current run, sorted, to the temporary file.
func (s *Spool) spill() error {
	if len(s.ents) == 0 {
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".ward-report-*.spool")
		if err != nil {
			return fmt.Errorf("report spool: %w", err)
		}
		// Unlinked at once where the system allows it, so the file goes
		// away with the process whatever happens (elsewhere Close
		// removes it).
		os.Remove(f.Name())
		s.file = f
	}
	s.sortRun()
	off, err := s.file.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("report spool: %w", err)
	}
	w := bufio.NewWriterSize(s.file, 256<<10)
	var hdr []byte
	for i := range s.ents {
		e := &s.ents[i]
		hdr = appendRecordHeader(hdr[:0], e)
		w.Write(hdr)
		w.Write(s.buf[e.off:e.end])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("report spool: %w", err)
	}
	end, err := s.file.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("report spool: %w", err)
	}
	s.runs = append(s.runs, spoolRun{off: off, size: end - off})
	s.ents, s.buf = s.ents[:0], s.buf[:0]
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRecordHeader encodes an entry's key and the length of its chunk.
func appendRecordHeader(b []byte, e *entry) []byte {
	k := &e.key
	b = append(b, k.group, byte(k.sev), e.flags)
	b = binary.AppendUvarint(b, uint64(k.line))
	b = binary.AppendUvarint(b, uint64(k.col))
	b = binary.AppendUvarint(b, k.seq)
	b = binary.AppendUvarint(b, uint64(e.split))
	b = appendString(b, k.target)
	b = appendString(b, k.path)
	b = appendString(b, k.rule)
	b = appendString(b, k.fp)
	return binary.AppendUvarint(b, uint64(e.end-e.off))
}

// runReader reads one spilled run back in order.
type runReader struct {
	r     *bufio.Reader
	cur   entry
	chunk []byte
	// scratch holds the string being read.
	scratch []byte
	// interned repeats of target, path and rule.
	strs map[string]string
	err  error
}

// bytes reads a length-prefixed string into the reader's scratch buffer
// (valid until the next call).
func (rr *runReader) bytes() []byte {
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		rr.err = err
		return nil
	}
	if n > 1<<30 {
		rr.err = errors.New("report spool: corrupt record")
		return nil
	}
	if cap(rr.scratch) < int(n) {
		rr.scratch = make([]byte, n)
	}
	rr.scratch = rr.scratch[:n]
	if _, err := io.ReadFull(rr.r, rr.scratch); err != nil {
		rr.err = err
		return nil
	}
	return rr.scratch
}

func (rr *runReader) str() string { return string(rr.bytes()) }

// interned is str for the strings records repeat (target, path, rule):
// a repeat costs no allocation.
func (rr *runReader) interned() string {
	b := rr.bytes()
	if v, ok := rr.strs[string(b)]; ok {
		return v
	}
	s := string(b)
	if len(rr.strs) < 1<<16 {
		rr.strs[s] = s
	}
	return s
}

func (rr *runReader) uvarint() uint64 {
	v, err := binary.ReadUvarint(rr.r)
	if err != nil && rr.err == nil {
		rr.err = err
	}
	return v
}

// next reads the next record; false at the end of the run or on error
// (rr.err set, io.EOF at a clean end).
func (rr *runReader) next() bool {
	var fixed [3]byte
	if _, err := io.ReadFull(rr.r, fixed[:]); err != nil {
		rr.err = err
		return false
	}
	e := entry{}
	e.key.group, e.key.sev, e.flags = fixed[0], finding.Severity(fixed[1]), fixed[2]
	e.key.line = int(rr.uvarint())
	e.key.col = int(rr.uvarint())
	e.key.seq = rr.uvarint()
	e.split = int(rr.uvarint())
	e.key.target = rr.interned()
	e.key.path = rr.interned()
	e.key.rule = rr.interned()
	e.key.fp = rr.str()
	n := rr.uvarint()
	if rr.err != nil {
		return false
	}
	if n > 1<<30 {
		rr.err = errors.New("report spool: corrupt record")
		return false
	}
	if cap(rr.chunk) < int(n) {
		rr.chunk = make([]byte, n)
	}
	rr.chunk = rr.chunk[:n]
	if _, err := io.ReadFull(rr.r, rr.chunk); err != nil {
		rr.err = err
		return false
	}
	e.end = int(n)
	rr.cur = e
	return true
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur.key.less(&h[j].cur.key) }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// each calls fn with every kept chunk in order. The chunk is only valid
// during the call.
func (s *Spool) each(fn func(e *entry, chunk []byte) error) error {
	if s.err != nil {
		return s.err
	}
	if len(s.runs) == 0 {
		s.sortRun()
		for i := range s.ents {
			e := &s.ents[i]
			if err := fn(e, s.buf[e.off:e.end]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	h := make(runHeap, 0, len(s.runs))
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.size), 64<<10), strs: map[string]string{}}
		if rr.next() {
			h = append(h, rr)
		} else if rr.err != io.EOF {
			return fmt.Errorf("report spool: %w", rr.err)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		rr := h[0]
		if err := fn(&rr.cur, rr.chunk); err != nil {
			return err
		}
		if rr.next() {
			heap.Fix(&h, 0)
			continue
		}
		if rr.err != io.EOF {
			return fmt.Errorf("report spool: %w", rr.err)
		}
		heap.Pop(&h)
	}
	return nil
}

// tally is what the summary, the exit code and compliance views need.
type tally struct {
	added   int
	failing int
	summary Summary
	rules   map[string]int
}

func newTally() tally {
	t := tally{summary: Summary{BySeverity: map[string]int{}, ByKind: map[string]int{}}, rules: map[string]int{}}
	for _, sev := range finding.Severities {
		t.summary.BySeverity[sev.String()] = 0
	}
	return t
}

// add counts f as Finalize does.
func (t *tally) add(f *finding.Finding) {
	t.added++
	if Failing(f) {
		t.failing++
	}
	if f.Suppressed != nil {
		t.summary.Suppressed++
		return
	}
	t.rules[f.RuleID]++
	if f.Kind == finding.KindBenchmark && f.Benchmark != nil && f.Benchmark.Status != finding.StatusFail && f.Benchmark.Status != finding.StatusError {
		return
	}
	t.summary.Total++
	t.summary.BySeverity[f.Severity.String()]++
	t.summary.ByKind[string(f.Kind)]++
}
