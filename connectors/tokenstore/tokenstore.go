// Package tokenstore keeps OAuth2 tokens per CRM tenant in Redis, encrypted
// with AES-256-GCM, plus the one-time OAuth `state` values and the
// cross-process lock that makes a tenant's token refresh happen once.
package tokenstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/redislock"
)

// KeySize is the size of the encryption key (AES-256).
const KeySize = 32

// Token is what is stored for one tenant.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitempty"`       // zero: the CRM did not say (refresh on 401)
	InstanceURL  string    `json:"instance_url,omitempty"` // Salesforce
	Scope        string    `json:"scope,omitempty"`
	// NeedsReauth is set when the CRM refused the refresh token
	// (invalid_grant): only a new install fixes it.
	NeedsReauth bool      `json:"needs_reauth,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Store is a Redis-backed, encrypted token store.
type Store struct {
	rdb    redis.UniversalClient
	aead   cipher.AEAD
	prefix string
	now    func() time.Time
}

// ParseKey decodes a base64 (standard or URL, padded or not) 32-byte key.
func ParseKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key decodes to %d bytes, want %d (generate one with: openssl rand -base64 32)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not valid base64 (generate one with: openssl rand -base64 32)")
}

// New returns a store that encrypts with key (32 bytes).
func New(rdb redis.UniversalClient, key []byte) (*Store, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("token encryption key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("init AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("init GCM: %w", err)
	}
	return &Store{rdb: rdb, aead: aead, prefix: "handoff:oauth:", now: time.Now}, nil
}

func (s *Store) tokenKey(crm handoff.Source, tenant string) string {
	return s.prefix + "token:" + string(crm) + ":" + tenant
}

// Get returns the tenant's token, or an error wrapping handoff.ErrNotInstalled.
func (s *Store) Get(ctx context.Context, crm handoff.Source, tenant string) (*Token, error) {
	b, err := s.rdb.Get(ctx, s.tokenKey(crm, tenant)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s tenant %s: %w", crm, tenant, handoff.ErrNotInstalled)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s token for tenant %s: %w", crm, tenant, err)
	}
	plain, err := s.open(b, s.tokenKey(crm, tenant))
	if err != nil {
		return nil, fmt.Errorf("decrypt %s token for tenant %s (wrong TOKEN_ENCRYPTION_KEY?): %w", crm, tenant, err)
	}
	var t Token
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("decode %s token for tenant %s: %w", crm, tenant, err)
	}
	return &t, nil
}

// Put stores (replaces) the tenant's token.
func (s *Store) Put(ctx context.Context, crm handoff.Source, tenant string, t *Token) error {
	cp := *t
	cp.UpdatedAt = s.now().UTC()
	plain, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	key := s.tokenKey(crm, tenant)
	pipe := s.rdb.TxPipeline()
	pipe.Set(ctx, key, s.seal(plain, key), 0)
	pipe.SAdd(ctx, s.prefix+"tenants:"+string(crm), tenant)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store %s token for tenant %s: %w", crm, tenant, err)
	}
	return nil
}

// MarkNeedsReauth records that the tenant must install the app again. The
// tokens are dropped; the reason stays for operators.
func (s *Store) MarkNeedsReauth(ctx context.Context, crm handoff.Source, tenant, reason string) error {
	return s.Put(ctx, crm, tenant, &Token{NeedsReauth: true, Reason: reason})
}

// Tenants lists the tenants that have (or had) a token for crm.
func (s *Store) Tenants(ctx context.Context, crm handoff.Source) ([]string, error) {
	ts, err := s.rdb.SMembers(ctx, s.prefix+"tenants:"+string(crm)).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s tenants: %w", crm, err)
	}
	return ts, nil
}

// ErrLockTimeout: another process held the refresh lock for longer than ctx allowed.
var ErrLockTimeout = errors.New("timed out waiting for the token refresh lock")

// Lock takes the tenant's refresh lock (shared by every process on this
// Redis). It waits until ctx is done. The lock expires by itself after 30 s
// in case its holder dies. Call unlock when the refresh is stored.
func (s *Store) Lock(ctx context.Context, crm handoff.Source, tenant string) (unlock func(), err error) {
	release, err := redislock.Acquire(ctx, s.rdb, s.prefix+"lock:"+string(crm)+":"+tenant, 30*time.Second)
	if errors.Is(err, redislock.ErrTimeout) {
		return nil, fmt.Errorf("%s tenant %s: %w", crm, tenant, ErrLockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("take %s refresh lock for tenant %s: %w", crm, tenant, err)
	}
	return release, nil
}

// ErrBadState: the OAuth state is unknown, expired or already used.
var ErrBadState = errors.New("unknown, expired or already used OAuth state")

// NewState creates a one-time OAuth `state` carrying data (e.g. a PKCE verifier).
func (s *Store) NewState(ctx context.Context, crm handoff.Source, data map[string]string, ttl time.Duration) (string, error) {
	state := randomString(24)
	plain, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode state: %w", err)
	}
	key := s.prefix + "state:" + string(crm) + ":" + state
	if err := s.rdb.Set(ctx, key, s.seal(plain, key), ttl).Err(); err != nil {
		return "", fmt.Errorf("store OAuth state: %w", err)
	}
	return state, nil
}

// TakeState consumes a state created by NewState: a second call with the
// same state fails with ErrBadState.
func (s *Store) TakeState(ctx context.Context, crm handoff.Source, state string) (map[string]string, error) {
	if state == "" || len(state) > 128 {
		return nil, ErrBadState
	}
	key := s.prefix + "state:" + string(crm) + ":" + state
	b, err := s.rdb.GetDel(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrBadState
	}
	if err != nil {
		return nil, fmt.Errorf("read OAuth state: %w", err)
	}
	plain, err := s.open(b, key)
	if err != nil {
		return nil, ErrBadState
	}
	var data map[string]string
	if err := json.Unmarshal(plain, &data); err != nil {
		return nil, fmt.Errorf("decode OAuth state: %w", err)
	}
	return data, nil
}

// seal encrypts plain; the Redis key is bound as associated data so a value
// copied under another tenant's key does not decrypt.
func (s *Store) seal(plain []byte, key string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never happens on Linux
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(key))
}

func (s *Store) open(b []byte, key string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("ciphertext too short")
	}
	return s.aead.Open(nil, b[:n], b[n:], []byte(key))
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
