package sink

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// File appends events as JSON lines and fsyncs each batch.
type File struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFile opens (creating) path for appending.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	return &File{f: f}, nil
}

// Send implements Sink.
func (s *File) Send(_ context.Context, events []Event) error {
	var buf []byte
	for i := range events {
		b, err := events[i].JSON()
		if err != nil {
			return &PermanentError{err}
		}
		buf = append(append(buf, b...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("file sink %s: %w", s.f.Name(), err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("file sink %s: %w", s.f.Name(), err)
	}
	return nil
}

// Close implements Sink.
func (s *File) Close() error { return s.f.Close() }
