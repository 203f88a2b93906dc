// Package service is the control plane's behaviour, between the HTTP layer
// (thin handlers that decode, call one method and encode) and the store.
// Every method authorises the principal in its context first, validates its
// input, and returns typed errors (apierr) that the HTTP layer writes.
package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/metrics"
	"github.com/aetherengine/aether/controlplane/runtime"
	"github.com/aetherengine/aether/controlplane/store"
)

// Service implements the API's operations.
type Service struct {
	store    store.Store
	admitter admission.Admitter
	runtime  runtime.Runtime
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	// defaultNamespace is an app's namespace when its creator names none.
	defaultNamespace string

	rollouts sync.WaitGroup
}

// Options wires a Service; Store, Metrics and Log are required.
type Options struct {
	Store    store.Store
	Admitter admission.Admitter // default: admission.Placeholder
	Runtime  runtime.Runtime    // default: runtime.None
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// DefaultNamespace for new apps (default "default").
	DefaultNamespace string
}

// New returns a Service.
func New(o Options) *Service {
	if o.Admitter == nil {
		o.Admitter = admission.Placeholder{}
	}
	if o.Runtime == nil {
		o.Runtime = runtime.None{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DefaultNamespace == "" {
		o.DefaultNamespace = "default"
	}
	return &Service{store: o.Store, admitter: o.Admitter, runtime: o.Runtime, metrics: o.Metrics, log: o.Log,
		now: func() time.Time { return o.Now().UTC() }, defaultNamespace: o.DefaultNamespace}
}

// Ready checks what the service depends on: the store and the runtime.
func (s *Service) Ready(ctx context.Context) map[string]error {
	return map[string]error{
		"store":                       s.store.Ping(ctx),
		"runtime:" + s.runtime.Name(): s.runtime.Ready(ctx),
	}
}

// Wait blocks until background rollouts have returned (graceful shutdown).
func (s *Service) Wait() { s.rollouts.Wait() }
