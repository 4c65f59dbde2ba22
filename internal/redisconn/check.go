package redisconn

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ServerFacts is what CheckServer read from the Redis server.
type ServerFacts struct {
	Version        string // redis_version, "" when unknown
	EvictionPolicy string // maxmemory-policy, "" when CONFIG is not allowed
	AppendOnly     string // appendonly, "" when unknown
	Save           string // save, "" when unknown
}

// Problems lists, in words an operator can act on, what in these facts
// puts queued work at risk (docs/architecture.md, reliability rules:
// asynq's archiving uses ZRANGE ... BYSCORE, Redis 6.2 or later; any eviction policy but noeviction can drop tasks and
// leases; without AOF or snapshots a restart loses the queue).
func (f ServerFacts) Problems() []string {
	var out []string
	if f.Version != "" && !atLeast(f.Version, 6, 2) {
		out = append(out, "Redis "+f.Version+" is older than 6.2: asynq cannot archive failed tasks on it; upgrade Redis")
	}
	if f.EvictionPolicy != "" && f.EvictionPolicy != "noeviction" {
		out = append(out, "maxmemory-policy is "+f.EvictionPolicy+": under memory pressure Redis may evict queued tasks and leases; set it to noeviction")
	}
	if f.AppendOnly == "no" && f.Save == "" && f.EvictionPolicy != "" {
		out = append(out, "neither AOF (appendonly) nor RDB snapshots (save) are on: a Redis restart loses every queued task; turn on appendonly yes")
	}
	return out
}

// CheckServer reads the server's version and the settings that decide
// whether queued work survives (INFO server, CONFIG GET), and logs one WARN
// line per problem. It is best effort: managed services that refuse CONFIG
// just leave those facts unknown, and an unreachable Redis is left to the
// readiness check. The embedded Redis is not checked (it says what it is).
func (c *Conn) CheckServer(ctx context.Context, log *slog.Logger) ServerFacts {
	var f ServerFacts
	if c.embedded != nil {
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if info, err := c.Client.Info(ctx, "server").Result(); err == nil {
		f.Version = infoField(info, "redis_version")
	} else {
		log.Debug("redis server check: INFO", "error", err)
	}
	f.EvictionPolicy = configValue(ctx, c.Client, "maxmemory-policy", log)
	if f.EvictionPolicy != "" {
		f.AppendOnly = configValue(ctx, c.Client, "appendonly", log)
		f.Save = configValue(ctx, c.Client, "save", log)
	}
	for _, p := range f.Problems() {
		log.Warn("redis: "+p, "addr", c.Addr)
	}
	return f
}

func configValue(ctx context.Context, rdb redis.UniversalClient, name string, log *slog.Logger) string {
	m, err := rdb.ConfigGet(ctx, name).Result()
	if err != nil {
		log.Debug("redis server check: CONFIG GET", "parameter", name, "error", err)
		return ""
	}
	return strings.TrimSpace(m[name])
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// atLeast reports whether version "x.y.z" is at least major.minor.
func atLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return true // unknown shape: do not warn
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}
