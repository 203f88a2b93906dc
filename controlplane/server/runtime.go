package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aetherengine/aether/controlplane/admission"
	"github.com/aetherengine/aether/controlplane/config"
	"github.com/aetherengine/aether/controlplane/runtime"
	k8sruntime "github.com/aetherengine/aether/controlplane/runtime/kubernetes"
	"github.com/aetherengine/aether/controlplane/runtime/local"
	"github.com/aetherengine/aether/pkg/artifact"
	"github.com/aetherengine/aether/pkg/fetch"
	"github.com/aetherengine/aether/pkg/kube"
)

// NewRuntime builds the runtime cfg.Runtime names. The caller closes it
// when it is an io.Closer (the local runtime is: it stops app processes).
// configs reads artifact configs for the Kubernetes runtime (admission's
// guarded registry client).
func NewRuntime(ctx context.Context, cfg config.Config, log *slog.Logger, configs k8sruntime.ConfigReader) (runtime.Runtime, error) {
	switch cfg.Runtime {
	case "", config.RuntimeNone:
		return runtime.None{}, nil
	case config.RuntimeLocal:
		rt, err := local.New(local.Options{StateDir: cfg.StateDir, Node: cfg.Node, Log: log.With("component", "runtime"),
			// Pull with the credentials admission used.
			Fetch: fetch.Options{DockerConfig: cfg.RegistryConfig}})
		if err != nil {
			return nil, err
		}
		// Apps that ran before a restart run again, on the same ports.
		if err := rt.Restore(ctx); err != nil {
			log.Warn("some apps could not be restored", "err", err)
		}
		return rt, nil
	case config.RuntimeKubernetes:
		if configs == nil {
			return nil, errors.New("the kubernetes runtime needs the registry admitter to read artifact configs")
		}
		rc, err := kube.LoadConfig(cfg.Kubeconfig)
		if err != nil {
			return nil, err
		}
		cl, err := kube.NewClientForConfig(rc, kube.Options{Logger: log.With("component", "kubernetes")})
		if err != nil {
			return nil, err
		}
		allow, err := admission.ParseAllowList(cfg.Registries)
		if err != nil {
			return nil, err
		}
		return k8sruntime.New(k8sruntime.Options{
			Cluster:          cl,
			Config:           configs,
			DefaultNamespace: cfg.DefaultNamespace,
			FetchImage:       cfg.FetchImage,
			NodeImage:        cfg.NodeImage,
			RegistrySecret:   cfg.RegistrySecret,
			PlainHTTP: func(host string) bool {
				_, plain := allow.Allows(host)
				return plain
			},
			Reverify:         cfg.Reverify,
			RolloutTimeout:   time.Duration(cfg.RolloutTimeout),
			ProgressDeadline: time.Duration(cfg.ProgressDeadline),
			Log:              log.With("component", "runtime"),
		})
	}
	return nil, errors.New("unknown runtime " + cfg.Runtime + "; use none, local or kubernetes")
}

// withRuntime sets d.Runtime from cfg when the caller injected none, and
// returns the function that stops it (a no-op for an injected runtime,
// which its caller owns).
func withRuntime(ctx context.Context, cfg config.Config, d *Deps) (func(), error) {
	if d.Runtime != nil {
		return func() {}, nil
	}
	var configs k8sruntime.ConfigReader
	if a, ok := d.Admitter.(interface {
		ArtifactConfig(context.Context, string) (*artifact.Config, error)
	}); ok {
		configs = a.ArtifactConfig
	}
	rt, err := NewRuntime(ctx, cfg, d.Log, configs)
	if err != nil {
		return nil, err
	}
	d.Runtime = rt
	var once sync.Once
	return func() {
		once.Do(func() {
			if c, ok := rt.(io.Closer); ok {
				if err := c.Close(); err != nil {
					d.Log.Warn("runtime stopped with an error", "err", err)
				}
			}
		})
	}, nil
}

// StopRuntime stops the runtime Build created: rollouts in progress end
// (reported failed) and app processes are stopped. Safe to call twice.
func (h *Handler) StopRuntime() {
	if h.closeRuntime != nil {
		h.closeRuntime()
	}
}

// Close stops the runtime Build created and closes the store.
func (h *Handler) Close() error {
	h.StopRuntime()
	return h.Store.Close()
}
