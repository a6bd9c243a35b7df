package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDisabledDrawsNothing(t *testing.T) {
	var buf syncBuf
	s := Start(&buf, false, "scanning", "files")
	s.Add(3)
	s.SetLabel("x")
	s.Stop()
	if buf.String() != "" {
		t.Fatalf("drew %q", buf.String())
	}
}

func TestShortWorkDrawsNothing(t *testing.T) {
	var buf syncBuf
	s := Start(&buf, true, "scanning", "files")
	s.Add(1)
	s.Stop()
	s.Stop()
	if buf.String() != "" {
		t.Fatalf("drew %q for work shorter than the delay", buf.String())
	}
}

func TestLongWorkDrawsAndClears(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the spinner delay")
	}
	var buf syncBuf
	s := Start(&buf, true, "scanning", "files")
	s.Add(42)
	time.Sleep(Delay + 250*time.Millisecond)
	s.Stop()
	out := buf.String()
	if !strings.Contains(out, "scanning (42 files)") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Fatalf("output = %q", out)
	}
}
