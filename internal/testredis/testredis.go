// Package testredis gives tests a real redis-server.
//
// New returns an isolated database on the shared server named by
// REDIS_TEST_ADDR (the README's test command starts one); without it, it
// starts a private redis-server for the test binary. StartServer always starts
// a private server that a test may stop and restart (readiness, chaos).
package testredis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr names the environment variable holding a shared test server's address.
const EnvAddr = "REDIS_TEST_ADDR"

// DB is one isolated Redis database for a test.
type DB struct {
	Addr string
	DB   int
}

// URL returns a redis:// URL for the database.
func (d DB) URL() string { return fmt.Sprintf("redis://%s/%d", d.Addr, d.DB) }

// Client returns a go-redis client for the database, closed with the test.
func (d DB) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: d.Addr, DB: d.DB})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var (
	sharedOnce sync.Once
	sharedAddr string
	sharedErr  error
)

// New returns a fresh, empty database that is flushed again when the test ends.
func New(t testing.TB) DB {
	t.Helper()
	sharedOnce.Do(func() {
		if a := os.Getenv(EnvAddr); a != "" {
			sharedAddr = a
			return
		}
		// A private server for this test binary; it lives until the process exits.
		dir, err := os.MkdirTemp("", "handoff-testredis-")
		if err != nil {
			sharedErr = err
			return
		}
		s := &Server{dir: dir}
		if err := s.start(); err != nil {
			sharedErr = err
			return
		}
		sharedAddr = s.Addr
	})
	if sharedErr != nil {
		t.Fatalf("testredis: %v", sharedErr)
	}
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: sharedAddr})
	defer admin.Close()
	n, err := admin.Incr(ctx, "handoff:testredis:next-db").Result()
	if err != nil {
		t.Fatalf("testredis: allocate a database on %s: %v", sharedAddr, err)
	}
	dbs := 16
	if v, err := admin.ConfigGet(ctx, "databases").Result(); err == nil {
		if x, err := strconv.Atoi(v["databases"]); err == nil && x > 1 {
			dbs = x
		}
	}
	d := DB{Addr: sharedAddr, DB: 1 + int(n-1)%(dbs-1)}
	c := redis.NewClient(&redis.Options{Addr: d.Addr, DB: d.DB})
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("testredis: flush db %d: %v", d.DB, err)
	}
	t.Cleanup(func() {
		_ = c.FlushDB(context.Background()).Err()
		_ = c.Close()
	})
	return d
}

// Server is a private redis-server process.
type Server struct {
	Addr string
	Port int
	dir  string
	aof  bool
	args []string
	cmd  *exec.Cmd
	mu   sync.Mutex
}

// Option configures StartServer.
type Option func(*Server)

// WithAOF turns on the append-only file (appendfsync always), so a restart keeps every write.
func WithAOF() Option { return func(s *Server) { s.aof = true } }

// WithArgs passes more redis-server arguments (configuration directives such
// as "--rename-command", "MEMORY", ""), e.g. to act like a managed Redis
// that refuses some commands.
func WithArgs(args ...string) Option { return func(s *Server) { s.args = append(s.args, args...) } }

// StartServer starts a private redis-server on a free port in a temporary
// directory; it is stopped when the test ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	if err := s.start(); err != nil {
		t.Fatalf("testredis: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL returns a redis:// URL for database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server is not installed; run the README's test command (make test), which installs it: %w", err)
	}
	if s.Port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		s.Port = p
		s.Addr = "127.0.0.1:" + strconv.Itoa(p)
	}
	args := []string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--databases", "1024", "--daemonize", "no", "--loglevel", "warning",
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}
	if s.aof {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, s.args...)
	cmd := exec.Command(bin, args...)
	// The server dies with the test binary, even if it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return fmt.Errorf("redis-server on %s did not answer within 10s (log: %s)", s.Addr, filepath.Join(s.dir, "redis.log"))
}

// Stop kills the server (SIGKILL: like a crash; with AOF always, nothing is lost).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("testredis: restart: %v", err)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

// FreePort returns a TCP port nothing listens on right now.
func FreePort() (int, error) { return freePort() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
