// Package pgtest starts throwaway PostgreSQL clusters for tests: Debian's
// PostgreSQL (initdb and postgres from /usr/lib/postgresql/*/bin, or PATH)
// in a temporary directory, listening on 127.0.0.1 on a free port with
// password (SCRAM) authentication, stopped and removed when the test or
// test binary ends. PostgreSQL refuses to run as root, so as root the
// cluster runs as the "postgres" system user. Tests skip with the reason
// when the binaries or that user are missing; scripts/deps-postgres.sh
// installs them.
//
// One cluster is shared per test binary: call DSN(t) for a fresh, empty
// database on it (dropped at the test's cleanup) and let TestMain stop the
// cluster:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// WARD_TEST_POSTGRES=postgres://user:pw@host:port/db makes DSN create its
// databases on that server instead of starting one.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvDSN names an existing server to use instead of starting one.
const EnvDSN = "WARD_TEST_POSTGRES"

// Server is a running PostgreSQL cluster.
type Server struct {
	// Dir holds the data directory, socket and log (removed by Stop).
	Dir  string
	Host string // 127.0.0.1
	Port int
	User string
	// Password of User.
	Password string
	// Version is the server's major version directory name ("15").
	Version string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	ext     *url.URL // set when using EnvDSN
}

// DSN is the URL of database db on s.
func (s *Server) DSN(db string) string {
	if s.ext != nil {
		u := *s.ext
		u.Path = "/" + db
		return u.String()
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password),
		Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Unavailable is the reason PostgreSQL cannot run here (a skip reason).
type Unavailable struct{ Reason string }

func (u *Unavailable) Error() string { return "PostgreSQL unavailable: " + u.Reason }

// binDir finds the newest /usr/lib/postgresql/N/bin with initdb and
// postgres, else the directory of initdb in PATH.
func binDir() (dir, version string, err error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	for _, m := range matches {
		d := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, filepath.Base(filepath.Dir(d)), nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, "", nil
		}
	}
	return "", "", &Unavailable{"initdb/postgres not found in /usr/lib/postgresql/*/bin or PATH (apt-get install postgresql; scripts/deps-postgres.sh)"}
}

// runAs is the credential the cluster runs with: nil for a non-root
// user, the postgres system user for root.
func runAs() (*runCred, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, &Unavailable{"running as root and there is no postgres user to run the server as (PostgreSQL refuses root): " + err.Error()}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, &Unavailable{fmt.Sprintf("postgres user has uid %q gid %q", u.Uid, u.Gid)}
	}
	return &runCred{uid: uint32(uid), gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Start initialises and starts a new cluster. The caller must Stop it.
// The error is an *Unavailable when PostgreSQL cannot run here.
func Start() (*Server, error) {
	bin, version, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ward-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Host: "127.0.0.1", User: "ward", Password: randomHex(12), Version: version}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.uid), int(cred.gid)); err != nil {
			return fail(fmt.Errorf("pgtest: chown %s: %w", dir, err))
		}
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.uid), int(cred.gid)); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", s.User, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = procAttr(cred, false)
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %w\n%s", err, out))
	}
	os.Remove(pwfile)
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(fmt.Errorf("pgtest: free port: %w", err))
		}
		s.Port = port
		err = s.startPostgres(bin, data, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !errors.Is(err, errPortTaken) {
			return fail(err)
		}
	}
}

var errPortTaken = errors.New("port taken")

func (s *Server) startPostgres(bin, data string, cred *runCred) error {
	logPath := filepath.Join(s.Dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// The server is a child of this process (no pg_ctl daemon), killed if
	// the test binary dies: no cluster outlives its tests.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-c", "unix_socket_directories="+s.Dir, "-c", "max_connections=100",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr(cred, true)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logPath)
			s.cmd = nil
			if strings.Contains(string(log), "Address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("pgtest: postgres exited (%v):\n%s", s.waitErr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres not ready after 60 s: %v\n%s", err, log)
		}
	}
}

// Stop stops the server (fast shutdown, then kill after 10 s) and removes
// its directory.
func (s *Server) Stop() error {
	if s == nil || s.ext != nil {
		return nil
	}
	var err error
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(os.Interrupt) // SIGINT: fast shutdown
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			killGroup(s.cmd.Process)
			<-s.exited
			err = errors.New("pgtest: postgres did not stop in 10 s; killed")
		}
		s.cmd = nil
	}
	if s.Dir != "" {
		if rerr := os.RemoveAll(s.Dir); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// StartT starts a cluster of its own for t, stopped at t's cleanup; it
// skips t when PostgreSQL cannot run here.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	var u *Unavailable
	if errors.As(err, &u) {
		t.Skip(u.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the test binary's shared cluster, starting it on first
// use (stopped by Main); it skips t when PostgreSQL cannot run here.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		if env := os.Getenv(EnvDSN); env != "" {
			u, err := url.Parse(env)
			if err != nil {
				shared.err = fmt.Errorf("pgtest: %s: %w", EnvDSN, err)
				return
			}
			shared.srv = &Server{ext: u, Host: u.Hostname(), User: u.User.Username()}
			return
		}
		shared.srv, shared.err = Start()
	})
	var u *Unavailable
	if errors.As(shared.err, &u) {
		t.Skip(u.Error())
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Main runs the tests and then stops the shared cluster, if one started.
func Main(m *testing.M) int {
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// StopShared stops the shared cluster if one started (Main calls it; a
// TestMain that must close things first calls it itself).
func StopShared() error {
	if shared.srv == nil {
		return nil
	}
	return shared.srv.Stop()
}

// CreateDatabase creates a fresh, empty database on s and returns its URL
// and a function that drops it.
func (s *Server) CreateDatabase(ctx context.Context) (dsn string, drop func() error, err error) {
	name := "t_" + randomHex(8)
	admin, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("pgtest: create database: %w", err)
	}
	drop = func() error {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: drop database %s: %w", name, err)
		}
		return nil
	}
	return s.DSN(name), drop, nil
}

// DSN creates a fresh, empty database on the shared cluster for t and
// returns its URL; the database is dropped at t's cleanup.
func DSN(t testing.TB) string {
	t.Helper()
	dsn, drop, err := Shared(t).CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// CPUTime is the user+system CPU time the server's processes (postmaster,
// backends, and the exited ones it reaped) have used so far, from
// /proc; 0 when unknown (an external server, or no /proc). Benchmarks add
// it to their own CPU time for a figure a busy machine does not distort.
func (s *Server) CPUTime() time.Duration {
	if s == nil || s.cmd == nil {
		return 0
	}
	// Backends are children of the postmaster (each in its own session,
	// so the process group does not find them).
	pm := s.cmd.Process.Pid
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	const clkTck = 100 // USER_HZ on Linux
	var ticks int64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(e.Name())
		if ppid, _ := strconv.Atoi(f[1]); pid != pm && ppid != pm {
			continue
		}
		for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * time.Second / clkTck
}
