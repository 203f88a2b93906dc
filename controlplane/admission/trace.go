package admission

import (
	"context"
	"errors"
	"sync"
)

// trace accounts for one admission's registry traffic: requests, bytes
// read against a budget, and the first connection the guard refused. It
// travels in the context, which reaches the dialer and the transport
// through every layer (retries, redirects, token requests), so the
// admission can tell a refused connection from an unreachable registry
// even where a library only kept the error's text.
type trace struct {
	mu       sync.Mutex
	refused  error
	requests int
	bytes    int64
	budget   int64
	over     bool
}

type traceKey struct{}

func withTrace(ctx context.Context, budget int64) (context.Context, *trace) {
	t := &trace{budget: budget}
	return context.WithValue(ctx, traceKey{}, t), t
}

func traceFrom(ctx context.Context) *trace {
	t, _ := ctx.Value(traceKey{}).(*trace)
	return t
}

func noteRefused(ctx context.Context, err error) {
	if t := traceFrom(ctx); t != nil {
		t.mu.Lock()
		if t.refused == nil {
			t.refused = err
		}
		t.mu.Unlock()
	}
}

// snapshot returns the counters and the first refusal.
func (t *trace) snapshot() (requests int, bytes int64, refused error, over bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests, t.bytes, t.refused, t.over
}

// errBudget ends a read that would take an admission past its byte budget.
var errBudget = errors.New("registry answers exceed the bytes one admission may read")

// add counts n bytes; it reports false once the budget is spent.
func (t *trace) add(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bytes += int64(n)
	if t.budget > 0 && t.bytes > t.budget {
		t.over = true
	}
	return !t.over
}
