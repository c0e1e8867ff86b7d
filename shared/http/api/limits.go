package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// limiter keeps one token bucket per key in this process. Buckets idle
// for longer than limiterIdle are dropped, so memory follows the keys in
// use. In AWS each Lambda instance has its own buckets: API Gateway's
// throttling is the global limit.
type limiter struct {
	every rate.Limit
	burst int
	off   bool

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

const limiterIdle = 10 * time.Minute

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{every: rate.Limit(perSecond), burst: burst, off: perSecond < 0, buckets: map[string]*bucket{}}
}

// allow takes a token from id's bucket; when none is left it returns how
// long until one is.
func (l *limiter) allow(id string, now time.Time) (bool, time.Duration) {
	if l.off {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > limiterIdle {
		for k, b := range l.buckets {
			if now.Sub(b.used) > limiterIdle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[id]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[id] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limit applies the rate limit of the key named id (never the key
// itself): a 429 error when it is exhausted.
func (a *API) limit(id string) error {
	ok, wait := a.limiter.allow(id, time.Now())
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &apiError{status: http.StatusTooManyRequests, code: "rate_limited",
		msg: fmt.Sprintf("rate limit exceeded; retry in %d s", max(1, secs)), retryAfter: max(1, secs)}
}

// secretCache resolves webhook signing secrets: environment variables on
// every request (cheap, and rotated by a restart), SSM and Secrets
// Manager through the resolver, cached for secretTTL so a rotated secret
// is picked up within minutes.
type secretCache struct {
	resolver SecretResolver
	now      func() time.Time

	mu   sync.Mutex
	vals map[config.SecretRef]cachedSecret
}

type cachedSecret struct {
	val []byte
	at  time.Time
}

const secretTTL = 5 * time.Minute

func newSecretCache(r SecretResolver, now func() time.Time) *secretCache {
	return &secretCache{resolver: r, now: now, vals: map[config.SecretRef]cachedSecret{}}
}

// get returns the secret ref names; nil when it is not set (nothing can
// verify against it). A transient failure is fault.ErrRetryable.
func (c *secretCache) get(ctx context.Context, ref config.SecretRef) ([]byte, error) {
	if ref.Env != "" {
		return []byte(os.Getenv(ref.Env)), nil
	}
	if ref.SSM == "" && ref.SecretsManager == "" {
		return nil, nil
	}
	now := c.now()
	c.mu.Lock()
	v, ok := c.vals[ref]
	c.mu.Unlock()
	if ok && now.Sub(v.at) < secretTTL {
		return v.val, nil
	}
	if c.resolver == nil {
		return nil, nil
	}
	s, err := c.resolver.Resolve(ctx, ref)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		s = ""
	case err != nil:
		return nil, fmt.Errorf("api: resolve webhook secret (%s): %w: %v", refKind(ref), fault.ErrRetryable, err)
	}
	c.mu.Lock()
	c.vals[ref] = cachedSecret{val: []byte(s), at: now}
	c.mu.Unlock()
	return []byte(s), nil
}

func retryAfterHeader(w http.ResponseWriter, secs int) {
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
