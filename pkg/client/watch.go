package client

import (
	"context"
	"errors"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// WatchOptions tune WatchDeployment.
type WatchOptions struct {
	// Interval is the first pause between polls (default 200ms); it grows
	// to MaxInterval (default 2s) while nothing happens.
	Interval    time.Duration
	MaxInterval time.Duration
	// After skips the events with an id up to After (already shown).
	After int64
}

// maxWatchedEvents bounds the events one poll reads.
const maxWatchedEvents = 10000

// Finished reports whether e ends a deployment's history as a client waits
// for it: a transition to ready or failed, or the note of a server without
// a runtime (the deployment stays verified; nothing will run it).
func Finished(e api.Event) bool {
	return (e.Type == api.EventTransition && e.Status.Terminal()) || e.Reason == api.ReasonNoRuntime
}

// WatchDeployment polls a deployment's events, calls onEvent for each new
// one in order, and returns the deployment once an event Finished it. ctx
// bounds the wait. Network errors and 5xx answers are retried (the server
// may be restarting); other API errors end the watch.
func (c *Client) WatchDeployment(ctx context.Context, id string, o WatchOptions, onEvent func(api.Event)) (api.Deployment, error) {
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = 2 * time.Second
	}
	last, wait := o.After, o.Interval
	for {
		events, err := All(ctx, maxWatchedEvents, func(ctx context.Context, lo ListOptions) (api.List[api.Event], error) {
			return c.ListEvents(ctx, id, lo)
		})
		if err != nil && !retryable(err) {
			return api.Deployment{}, err
		}
		done := false
		for _, e := range events {
			if e.ID <= last {
				continue
			}
			last = e.ID
			wait = o.Interval
			if onEvent != nil {
				onEvent(e)
			}
			if Finished(e) {
				done = true
			}
		}
		if done {
			return c.GetDeployment(ctx, id)
		}
		select {
		case <-ctx.Done():
			return api.Deployment{}, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*3/2, o.MaxInterval)
	}
}

// retryable tells a passing failure (network, 5xx) from an answer.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode >= 500
	}
	return true
}
