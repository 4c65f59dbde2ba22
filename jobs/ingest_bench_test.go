package jobs

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/internal/testredis"
)

// latencyProxy forwards TCP to addr, delaying each chunk by half of rtt in
// each direction: a stand-in for Redis across a network.
func latencyProxy(tb testing.TB, addr string, rtt time.Duration) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				time.Sleep(rtt / 2)
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = dst.Close()
		_ = src.Close()
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				_ = c.Close()
				continue
			}
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	return l.Addr().String()
}

// BenchmarkIngest100 measures Ingest of 100 new events against real Redis,
// directly and through a simulated network round trip, sequentially and
// with a bounded fan-out.
func BenchmarkIngest100(b *testing.B) {
	for _, rtt := range []time.Duration{0, 500 * time.Microsecond} {
		for _, conc := range []int{1, 8, 16} {
			b.Run(fmt.Sprintf("rtt=%s/concurrency=%d", rtt, conc), func(b *testing.B) {
				db := testredis.New(b)
				addr := db.Addr
				if rtt > 0 {
					addr = latencyProxy(b, db.Addr, rtt)
				}
				rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db.DB, PoolSize: 32})
				b.Cleanup(func() { _ = rdb.Close() })
				in := NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, IngestConfig{Concurrency: conc})
				ctx := context.Background()
				round := 0
				b.ReportAllocs()
				for b.Loop() {
					round++
					res, err := in.Ingest(ctx, testEvents(100, fmt.Sprintf("r%d-", round)))
					if err != nil || res.Accepted != 100 {
						b.Fatal(res, err)
					}
				}
			})
		}
	}
}
