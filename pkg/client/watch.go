package client

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/aetherengine/aether/pkg/api"
)

// WatchOptions tune WatchDeployment.
type WatchOptions struct {
	// Interval is the first pause before retrying a failed request
	// (default 200ms); it grows to MaxInterval (default 2s).
	Interval    time.Duration
	MaxInterval time.Duration
	// WaitPerRequest is how long the server may hold one request open
	// waiting for an event (default 20s).
	WaitPerRequest time.Duration
	// After skips the events with an id up to After (already shown).
	After int64
}

// Finished reports whether e ends a deployment's history as a client waits
// for it: a transition to ready or failed, or the note of a server without
// a runtime (the deployment stays verified; nothing will run it).
func Finished(e api.Event) bool {
	return (e.Type == api.EventTransition && e.Status.Terminal()) || e.Reason == api.ReasonNoRuntime
}

// WatchDeployment follows a deployment's events, calls onEvent for each
// new one in order, and returns the deployment once an event Finished it.
// It long-polls (the server holds each request until an event arrives, up
// to WaitPerRequest), so each step is seen within milliseconds. ctx bounds
// the whole wait. Network errors and 5xx answers are retried after a pause
// (the server may be restarting); other API errors end the watch.
func (c *Client) WatchDeployment(ctx context.Context, id string, o WatchOptions, onEvent func(api.Event)) (api.Deployment, error) {
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = 2 * time.Second
	}
	if o.WaitPerRequest <= 0 {
		o.WaitPerRequest = 20 * time.Second
	}
	last, pause := o.After, o.Interval
	for {
		events, err := c.WaitEvents(ctx, id, last, o.WaitPerRequest)
		if err != nil {
			if !retryable(err) {
				return api.Deployment{}, err
			}
			select {
			case <-ctx.Done():
				return api.Deployment{}, ctx.Err()
			case <-time.After(pause):
			}
			pause = min(pause*3/2, o.MaxInterval)
			continue
		}
		pause = o.Interval
		done := false
		for _, e := range events {
			if e.ID <= last {
				continue
			}
			last = e.ID
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
	}
}

// WaitEvents returns the deployment's events with an id above after,
// waiting on the server up to wait for the first one.
func (c *Client) WaitEvents(ctx context.Context, id string, after int64, wait time.Duration) ([]api.Event, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "wait": {wait.String()}}
	var l api.List[api.Event]
	if err := c.do(ctx, "GET", "/v1/deployments/"+seg(id)+"/events", q, nil, &l); err != nil {
		return nil, err
	}
	return l.Items, nil
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
