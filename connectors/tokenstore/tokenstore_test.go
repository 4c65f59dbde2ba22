package tokenstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
)

func newStore(t *testing.T) (*Store, []byte) {
	t.Helper()
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	s, err := New(testredis.New(t).Client(t), key)
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

func TestPutGetRoundTripAndEncryptedAtRest(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	in := &Token{AccessToken: "at-secret-123", RefreshToken: "rt-secret-456", Expiry: time.Now().Add(time.Hour).UTC().Truncate(time.Second), InstanceURL: "https://x.my.salesforce.com"}
	if err := s.Put(ctx, handoff.SourceSalesforce, "00D1", in); err != nil {
		t.Fatal(err)
	}
	out, err := s.Get(ctx, handoff.SourceSalesforce, "00D1")
	if err != nil {
		t.Fatal(err)
	}
	if out.AccessToken != in.AccessToken || out.RefreshToken != in.RefreshToken || !out.Expiry.Equal(in.Expiry) || out.InstanceURL != in.InstanceURL {
		t.Fatalf("round trip: got %+v", out)
	}
	raw, err := s.rdb.Get(ctx, s.tokenKey(handoff.SourceSalesforce, "00D1")).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("at-secret")) || bytes.Contains(raw, []byte("rt-secret")) {
		t.Fatal("token stored in clear text")
	}
	// Another key cannot read it.
	other := make([]byte, KeySize)
	other[0] = 1
	s2, _ := New(s.rdb, other)
	if _, err := s2.Get(ctx, handoff.SourceSalesforce, "00D1"); err == nil {
		t.Fatal("token decrypted with the wrong key")
	}
	// A value copied under another tenant's key does not decrypt.
	if err := s.rdb.Set(ctx, s.tokenKey(handoff.SourceSalesforce, "00D2"), raw, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, handoff.SourceSalesforce, "00D2"); err == nil {
		t.Fatal("ciphertext moved to another tenant decrypted")
	}
	ts, _ := s.Tenants(ctx, handoff.SourceSalesforce)
	if len(ts) != 1 || ts[0] != "00D1" {
		t.Fatalf("tenants = %v", ts)
	}
}

func TestGetMissingIsNotInstalled(t *testing.T) {
	s, _ := newStore(t)
	_, err := s.Get(context.Background(), handoff.SourceHubSpot, "62515")
	if !errors.Is(err, handoff.ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
}

func TestStateIsOneTime(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	st, err := s.NewState(ctx, handoff.SourceSalesforce, map[string]string{"verifier": "v"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.TakeState(ctx, handoff.SourceSalesforce, st)
	if err != nil || data["verifier"] != "v" {
		t.Fatalf("take: %v %v", data, err)
	}
	if _, err := s.TakeState(ctx, handoff.SourceSalesforce, st); !errors.Is(err, ErrBadState) {
		t.Fatalf("reused state: err = %v", err)
	}
	if _, err := s.TakeState(ctx, handoff.SourceSalesforce, "forged"); !errors.Is(err, ErrBadState) {
		t.Fatalf("forged state: err = %v", err)
	}
	// A state for one CRM is not valid for another.
	st2, _ := s.NewState(ctx, handoff.SourceHubSpot, nil, time.Minute)
	if _, err := s.TakeState(ctx, handoff.SourceSalesforce, st2); !errors.Is(err, ErrBadState) {
		t.Fatalf("cross-CRM state: err = %v", err)
	}
}

func TestLockIsExclusive(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var inside, maxInside int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := s.Lock(ctx, handoff.SourceHubSpot, "1")
			if err != nil {
				t.Error(err)
				return
			}
			n := atomic.AddInt32(&inside, 1)
			for {
				m := atomic.LoadInt32(&maxInside)
				if n <= m || atomic.CompareAndSwapInt32(&maxInside, m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			atomic.AddInt32(&inside, -1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d holders at once", maxInside)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	unlock, err := s.Lock(ctx, handoff.SourceHubSpot, "2")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := s.Lock(short, handoff.SourceHubSpot, "2"); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("second lock: err = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey("not base64 !!"); err == nil {
		t.Fatal("garbage accepted")
	}
	k, err := ParseKey("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	if err != nil || len(k) != 32 {
		t.Fatalf("valid key: %v", err)
	}
}
