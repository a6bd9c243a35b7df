package sink

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// Syslog facility local0; severity from the event's severity.
const syslogFacility = 16

// Syslog sends RFC 5424 messages over UDP (one per datagram), TCP or TLS
// (RFC 6587 octet counting: "LEN SP MSG"). The MSG is the event's JSON,
// or a CEF record with format cef.
type Syslog struct {
	network, addr string
	cef           bool
	tls           *tls.Config
	hostname      string
	timeout       time.Duration
	mu            sync.Mutex
	conn          net.Conn
}

// NewSyslog builds a syslog sink from url udp://, tcp:// or tls://host:port.
func NewSyslog(c *SinkConfig) (*Syslog, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("syslog url: %w", err)
	}
	s := &Syslog{addr: u.Host, cef: c.Format == "cef", timeout: c.Timeout}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	switch u.Scheme {
	case "udp", "tcp":
		s.network = u.Scheme
	case "tls":
		s.network = "tcp"
		s.tls, err = tlsConfig(c.CAFile)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(u.Host)
		s.tls.ServerName = host
	default:
		return nil, fmt.Errorf("syslog url %q: scheme must be udp, tcp or tls", c.URL)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return nil, fmt.Errorf("syslog url %q: %w", c.URL, err)
	}
	s.hostname, _ = os.Hostname()
	return s, nil
}

func syslogSeverity(s finding.Severity) int {
	switch s {
	case finding.SeverityCritical:
		return 2
	case finding.SeverityHigh:
		return 3
	case finding.SeverityMedium:
		return 4
	case finding.SeverityLow:
		return 5
	}
	return 6
}

// nilvalue returns "-" for empty RFC 5424 header fields and keeps only
// PRINTUSASCII (33..126), truncated to max.
func headerField(s string, max int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < max; i++ {
		if s[i] >= 33 && s[i] <= 126 {
			b = append(b, s[i])
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// Format renders one RFC 5424 message (without transport framing).
func (s *Syslog) Format(e *Event) ([]byte, error) {
	var msg []byte
	if s.cef {
		msg = []byte(CEF(e))
	} else {
		b, err := e.JSON()
		if err != nil {
			return nil, err
		}
		msg = b
	}
	pri := syslogFacility*8 + syslogSeverity(e.Severity())
	ts := e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	if e.Time.IsZero() {
		ts = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	hdr := fmt.Sprintf("<%d>1 %s %s ward %d %s - ", pri, ts, headerField(s.hostname, 255), os.Getpid(), e.Kind())
	return append([]byte(hdr), msg...), nil
}

// Send implements Sink.
func (s *Syslog) Send(ctx context.Context, events []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		d := net.Dialer{Timeout: s.timeout}
		var c net.Conn
		var err error
		if s.tls != nil {
			td := tls.Dialer{NetDialer: &d, Config: s.tls}
			c, err = td.DialContext(ctx, s.network, s.addr)
		} else {
			c, err = d.DialContext(ctx, s.network, s.addr)
		}
		if err != nil {
			return fmt.Errorf("syslog %s://%s: %w", s.scheme(), s.addr, err)
		}
		s.conn = c
	}
	var buf []byte
	for i := range events {
		m, err := s.Format(&events[i])
		if err != nil {
			return &PermanentError{err}
		}
		if s.network == "udp" {
			_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
			if _, err := s.conn.Write(m); err != nil {
				s.reset()
				return fmt.Errorf("syslog udp://%s: %w", s.addr, err)
			}
			continue
		}
		buf = append(append(strconv.AppendInt(buf, int64(len(m)), 10), ' '), m...)
	}
	if len(buf) > 0 {
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		if _, err := s.conn.Write(buf); err != nil {
			s.reset()
			return fmt.Errorf("syslog %s://%s: %w", s.scheme(), s.addr, err)
		}
	}
	return nil
}

func (s *Syslog) scheme() string {
	if s.tls != nil {
		return "tls"
	}
	return s.network
}

func (s *Syslog) reset() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// Close implements Sink.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
	return nil
}

// CEF renders e as an ArcSight CEF:0 record. Header fields escape '\' and
// '|' with a backslash; extension values escape '\' and '=' and encode
// newlines as \n and \r; header fields cannot hold newlines (replaced by
// spaces).
func CEF(e *Event) string {
	sev := map[finding.Severity]int{finding.SeverityUnknown: 0, finding.SeverityLow: 3,
		finding.SeverityMedium: 5, finding.SeverityHigh: 8, finding.SeverityCritical: 10}[e.Severity()]
	name := e.RuleID()
	if f := e.Finding; f != nil && f.Title != "" {
		name = f.Title
	}
	var sb strings.Builder
	sb.WriteString("CEF:0|Ward|ward|1|")
	sb.WriteString(cefHeader(e.RuleID()))
	sb.WriteByte('|')
	sb.WriteString(cefHeader(name))
	sb.WriteByte('|')
	sb.WriteString(strconv.Itoa(sev))
	sb.WriteByte('|')
	ext := [][2]string{{"rt", strconv.FormatInt(e.Time.UnixMilli(), 10)}, {"cat", e.Kind()},
		{"dvchost", e.TargetName()}, {"msg", e.Message()}}
	if ns := e.Namespace(); ns != "" {
		ext = append(ext, [2]string{"cs1Label", "namespace"}, [2]string{"cs1", ns})
	}
	if f := e.Finding; f != nil {
		ext = append(ext, [2]string{"cs2Label", "fingerprint"}, [2]string{"cs2", f.Fingerprint})
		if f.Location.Path != "" {
			ext = append(ext, [2]string{"filePath", f.Location.Path})
		}
		if e.New {
			ext = append(ext, [2]string{"cs3Label", "status"}, [2]string{"cs3", "new"})
		} else {
			ext = append(ext, [2]string{"cs3Label", "status"}, [2]string{"cs3", "recurring"})
		}
	}
	first := true
	for _, kv := range ext {
		if kv[1] == "" {
			continue
		}
		if !first {
			sb.WriteByte(' ')
		}
		first = false
		sb.WriteString(kv[0])
		sb.WriteByte('=')
		sb.WriteString(cefValue(kv[1]))
	}
	return sb.String()
}

var cefHeaderRepl = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\n", " ", "\r", " ")
var cefValueRepl = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func cefHeader(s string) string { return cefHeaderRepl.Replace(s) }
func cefValue(s string) string  { return cefValueRepl.Replace(s) }
