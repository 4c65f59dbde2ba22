package jobs

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/internal/testredis"
)

// BenchmarkAsynqEnqueue is the raw cost of one asynq enqueue with a TaskID
// (what ingest pays per event), from parallel goroutines on one client;
// scripts/bench-redis.sh compares it with redis-benchmark on the same Redis.
func BenchmarkAsynqEnqueue(b *testing.B) {
	db := testredis.New(b)
	rdb := redis.NewClient(&redis.Options{Addr: db.Addr, DB: db.DB, PoolSize: 32})
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	payload := []byte(`{"v":1,"event":{"source":"agent","kind":"agent_turn"}}`)
	var n atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores, like redis-benchmark -c 16
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "bench-" + strconv.FormatInt(n.Add(1), 10)
			if _, err := client.Enqueue(asynq.NewTask(TypeEventProcess, payload), asynq.TaskID(id), asynq.Queue(QueueEvents)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
