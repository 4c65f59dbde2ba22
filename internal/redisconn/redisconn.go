// Package redisconn turns Handoff's Redis configuration into the two handles
// the program needs: an asynq.RedisConnOpt (queue, dashboard) and one shared
// go-redis UniversalClient (dedupe keys, tokens, caches, audit). With no
// configuration it starts an embedded in-process Redis (miniredis) for trying
// the product out; that one is not durable.
package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Config selects and tunes the Redis connection. Exactly one of URL,
// SentinelAddrs or ClusterAddrs may be set; none means embedded.
type Config struct {
	URL            string        `env:"REDIS_URL"`
	SentinelAddrs  []string      `env:"REDIS_SENTINEL_ADDRS"`
	SentinelMaster string        `env:"REDIS_SENTINEL_MASTER"`
	SentinelPass   string        `env:"REDIS_SENTINEL_PASSWORD"`
	ClusterAddrs   []string      `env:"REDIS_CLUSTER_ADDRS"`
	Username       string        `env:"REDIS_USERNAME"` // Sentinel / Cluster (REDIS_URL carries its own)
	Password       string        `env:"REDIS_PASSWORD"`
	DB             int           `env:"REDIS_DB, default=0"`
	TLS            bool          `env:"REDIS_TLS, default=false"`
	DialTimeout    time.Duration `env:"REDIS_DIAL_TIMEOUT, default=2s"`
	ReadTimeout    time.Duration `env:"REDIS_READ_TIMEOUT, default=3s"`
	WriteTimeout   time.Duration `env:"REDIS_WRITE_TIMEOUT, default=3s"`
	PoolSize       int           `env:"REDIS_POOL_SIZE, default=0"` // 0 = go-redis default (10 per CPU)
}

// Mode names the connection kind, for logs and /readyz.
type Mode string

// Connection modes.
const (
	ModeEmbedded Mode = "embedded"
	ModeURL      Mode = "url"
	ModeSentinel Mode = "sentinel"
	ModeCluster  Mode = "cluster"
)

// Validate checks the combination of settings. Errors name the variable.
func (c Config) Validate() error {
	set := 0
	for _, b := range []bool{c.URL != "", len(c.SentinelAddrs) > 0, len(c.ClusterAddrs) > 0} {
		if b {
			set++
		}
	}
	if set > 1 {
		return errors.New("REDIS_URL, REDIS_SENTINEL_ADDRS and REDIS_CLUSTER_ADDRS are alternatives: set only one")
	}
	if len(c.SentinelAddrs) > 0 && c.SentinelMaster == "" {
		return errors.New("REDIS_SENTINEL_MASTER: required with REDIS_SENTINEL_ADDRS (the master's name, e.g. mymaster)")
	}
	if c.URL != "" {
		if _, err := redis.ParseURL(c.URL); err != nil {
			return fmt.Errorf("REDIS_URL: %s", redactErr(err, c.URL))
		}
	}
	for _, a := range append(append([]string{}, c.SentinelAddrs...), c.ClusterAddrs...) {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("REDIS_SENTINEL_ADDRS/REDIS_CLUSTER_ADDRS: %q is not host:port", a)
		}
	}
	if c.DB < 0 {
		return fmt.Errorf("REDIS_DB: must be >= 0, got %d", c.DB)
	}
	if len(c.ClusterAddrs) > 0 {
		// asynq itself hash-tags its keys per queue, but our own MULTI/EXEC
		// transactions (ownership lease + its history + the audit stream,
		// decision memo + audit, outcome counters) span hash slots: on a
		// Cluster every event:process fails with CROSSSLOT and is archived
		// after its retries. Refuse rather than acknowledge webhooks that
		// can never be processed.
		return errors.New("REDIS_CLUSTER_ADDRS: Redis Cluster is not supported yet (the pipeline's transactions span hash slots and fail with CROSSSLOT); use REDIS_URL with one primary, or Sentinel")
	}
	return nil
}

// Conn holds the open connection handles.
type Conn struct {
	Mode Mode
	// Opt builds asynq clients, servers, inspectors and the dashboard.
	Opt asynq.RedisConnOpt
	// Client is shared by everything that talks to Redis directly.
	Client redis.UniversalClient
	// Addr describes the target without credentials, for logs.
	Addr string

	embedded  *miniredis.Miniredis
	stopClock func()
}

// Open connects (lazily: an unreachable Redis is not an error here; the
// readiness check and the dial backoff report it). With nothing configured
// it starts the embedded Redis and logs one WARN line.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var tlsCfg *tls.Config
	if cfg.TLS {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c := &Conn{}
	switch {
	case cfg.URL != "":
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %s", redactErr(err, cfg.URL))
		}
		tune(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, cfg)
		if cfg.PoolSize > 0 {
			o.PoolSize = cfg.PoolSize
		}
		c.Mode, c.Addr = ModeURL, o.Addr
		c.Opt = asynq.RedisClientOpt{Network: o.Network, Addr: o.Addr, Username: o.Username, Password: o.Password,
			DB: o.DB, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolSize: o.PoolSize, TLSConfig: o.TLSConfig}
		c.Client = redis.NewClient(o)
	case len(cfg.SentinelAddrs) > 0:
		o := &redis.FailoverOptions{MasterName: cfg.SentinelMaster, SentinelAddrs: cfg.SentinelAddrs,
			SentinelPassword: cfg.SentinelPass, Username: cfg.Username, Password: cfg.Password, DB: cfg.DB,
			PoolSize: cfg.PoolSize, TLSConfig: tlsCfg}
		tune(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, cfg)
		c.Mode, c.Addr = ModeSentinel, cfg.SentinelMaster+"@"+strings.Join(cfg.SentinelAddrs, ",")
		c.Opt = asynq.RedisFailoverClientOpt{MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
			SentinelPassword: o.SentinelPassword, Username: o.Username, Password: o.Password, DB: o.DB,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolSize: o.PoolSize, TLSConfig: tlsCfg}
		c.Client = redis.NewFailoverClient(o)
	case len(cfg.ClusterAddrs) > 0:
		o := &redis.ClusterOptions{Addrs: cfg.ClusterAddrs, Username: cfg.Username, Password: cfg.Password,
			PoolSize: cfg.PoolSize, TLSConfig: tlsCfg}
		tune(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, cfg)
		c.Mode, c.Addr = ModeCluster, strings.Join(cfg.ClusterAddrs, ",")
		c.Opt = asynq.RedisClusterClientOpt{Addrs: o.Addrs, Username: o.Username, Password: o.Password,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, TLSConfig: tlsCfg}
		c.Client = redis.NewClusterClient(o)
	default:
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		c.embedded = mr
		c.stopClock = runTTLClock(mr, 100*time.Millisecond)
		c.Mode, c.Addr = ModeEmbedded, mr.Addr()
		c.Opt = asynq.RedisClientOpt{Addr: mr.Addr()}
		c.Client = redis.NewClient(&redis.Options{Addr: mr.Addr()})
		log.Warn("REDIS_URL is not set: using an embedded in-process Redis; it is NOT durable (queued work is lost on exit) and is only for trying Handoff out",
			"addr", mr.Addr())
	}
	c.Client.AddHook(newOutageHook(log, c.Addr))
	return c, nil
}

// Close closes the client and stops the embedded server, if any.
func (c *Conn) Close() error {
	err := c.Client.Close()
	if c.embedded != nil {
		c.stopClock()
		c.embedded.Close()
	}
	return err
}

// runTTLClock runs miniredis's TTLs down with the wall clock. miniredis only
// expires keys when told to (FastForward), so without it every lock,
// cooldown, OAuth state and dedupe window with a TTL would last forever.
// (miniredis's ClockTTL does the same on every command, which costs a scan
// of all keys with a TTL per command; once per tick is enough here.)
func runTTLClock(mr *miniredis.Miniredis, every time.Duration) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-stopped
	}
}

// Ping checks that Redis answers within ctx.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis (%s %s) does not answer: %w", c.Mode, c.Addr, err)
	}
	return nil
}

func tune(dial, read, write *time.Duration, cfg Config) {
	if cfg.DialTimeout > 0 {
		*dial = cfg.DialTimeout
	}
	if cfg.ReadTimeout > 0 {
		*read = cfg.ReadTimeout
	}
	if cfg.WriteTimeout > 0 {
		*write = cfg.WriteTimeout
	}
}

// redactErr removes the URL (which may carry a password) from err's text.
func redactErr(err error, url string) string {
	msg := err.Error()
	if url != "" {
		msg = strings.ReplaceAll(msg, url, "<redacted>")
	}
	return "invalid Redis URL (want redis://[user:password@]host:port[/db] or rediss://...): " + msg
}

// outageHook is a go-redis hook that notices when Redis is unreachable. It
// logs the outage once per interval instead of once per command, and it
// pauses briefly after each failed command so that callers retrying in a
// tight loop (asynq's processor does on dequeue errors, and go-redis's pool
// fails fast once its dials fail) do not spin a CPU while Redis is down.
type outageHook struct {
	log   *slog.Logger
	addr  string
	pause time.Duration

	mu         sync.Mutex
	down       bool
	since      time.Time
	lastLogged time.Time
	suppressed int
}

const outageLogEvery = 30 * time.Second

func newOutageHook(log *slog.Logger, addr string) *outageHook {
	return &outageHook{log: log, addr: addr, pause: 200 * time.Millisecond}
}

func (h *outageHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *outageHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.observe(ctx, err)
		return err
	}
}

func (h *outageHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.observe(ctx, err)
		return err
	}
}

// IsConnError reports whether err means Redis could not be reached (as
// opposed to a command error such as a TaskID conflict).
func IsConnError(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, redis.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "i/o timeout") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") ||
		strings.HasPrefix(msg, "LOADING") || strings.HasSuffix(msg, "EOF")
}

func (h *outageHook) observe(ctx context.Context, err error) {
	if !IsConnError(err) {
		if err == nil || errors.Is(err, redis.Nil) {
			h.up()
		}
		return
	}
	now := time.Now()
	h.mu.Lock()
	if !h.down || now.Sub(h.lastLogged) >= outageLogEvery {
		if !h.down {
			h.since = now
		}
		h.log.Error("redis is unreachable; webhooks answer 503 and jobs wait until it is back",
			"addr", h.addr, "err", err.Error(), "down_for", now.Sub(h.since).Round(time.Second).String(),
			"suppressed_since_last_log", h.suppressed)
		h.down, h.lastLogged, h.suppressed = true, now, 0
	} else {
		h.suppressed++
	}
	h.mu.Unlock()
	t := time.NewTimer(h.pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (h *outageHook) up() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.log.Info("redis is reachable again", "addr", h.addr, "was_down_for", time.Since(h.since).Round(time.Second).String())
		h.down, h.suppressed = false, 0
	}
}

// Down reports whether the last command failed to reach Redis.
func (h *outageHook) Down() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}
