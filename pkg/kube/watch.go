package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/klog/v2"
)

// resync re-evaluates the rollout even when nothing changed, so grace
// periods (unschedulable) expire on time.
const resync = time.Second

// WaitReady watches the app's Deployment, ReplicaSets and pods (and the
// Kubernetes Events about them) until the rollout of digest is ready or
// has failed. Each change seen goes to onEvent, from this goroutine.
//
// When ctx's deadline passes first, the outcome is failed with reason
// timeout and the error is nil: that is an answer about the rollout. When
// ctx is cancelled, or the cluster cannot be watched (RBAC, connection),
// the error says so.
func (c *Client) WaitReady(ctx context.Context, namespace, name, digest string, onEvent func(Event)) (Outcome, error) {
	if onEvent == nil {
		onEvent = func(Event) {}
	}
	start := time.Now()
	// One read up front turns a missing Role or a dead API server into an
	// error now rather than a timeout later.
	if _, err := c.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
		if o, ok := timedOut(ctx, start, Outcome{Message: "the API server did not answer"}); ok {
			return o, nil
		}
		return Outcome{}, explain(err, fmt.Sprintf("get Deployment %s/%s", namespace, name))
	}

	// client-go logs through the context's logger: ours, not klog's global.
	wctx, cancel := context.WithCancel(klog.NewContext(ctx, logr.FromSlogHandler(c.log.Handler())))
	sel := listSelector(name)
	factory := informers.NewSharedInformerFactoryWithOptions(c.cs, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	// Cancel first: Shutdown waits for the informers, which stop on it.
	defer func() { cancel(); factory.Shutdown() }()

	deployments := factory.Apps().V1().Deployments()
	replicaSets := factory.Apps().V1().ReplicaSets()
	pods := factory.Core().V1().Pods()
	wake := make(chan struct{}, 1)
	fatal := make(chan error, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	for _, inf := range []cache.SharedIndexInformer{deployments.Informer(), replicaSets.Informer(), pods.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return Outcome{}, err
		}
		// A reflector retries forever; access errors will not heal by
		// waiting, so they end the watch.
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				select {
				case fatal <- err:
				default:
				}
				cancel() // also ends a WaitForCacheSync that would never finish
				return
			}
			cache.DefaultWatchErrorHandler(ctx, r, err)
		})
	}
	factory.StartWithContext(wctx)
	synced := cache.WaitForCacheSync(wctx.Done(), deployments.Informer().HasSynced, replicaSets.Informer().HasSynced, pods.Informer().HasSynced)
	if !synced {
		select {
		case err := <-fatal:
			return Outcome{}, explain(err, fmt.Sprintf("watch app %s/%s", namespace, name))
		default:
		}
		if o, ok := timedOut(ctx, start, Outcome{Message: "the watch caches did not fill"}); ok {
			return o, nil
		}
		return Outcome{}, ctx.Err()
	}

	events := c.watchEvents(wctx, namespace)
	tr := newTracker(name)
	tick := time.NewTicker(resync)
	defer tick.Stop()
	everything := labels.Everything()
	last := Outcome{Phase: PhaseRollingOut}
	for {
		snap := Snapshot{Now: time.Now()}
		if d, err := deployments.Lister().Deployments(namespace).Get(name); err == nil {
			snap.Deployment = d
		}
		if rs, err := replicaSets.Lister().ReplicaSets(namespace).List(everything); err == nil {
			snap.ReplicaSets = rs
		}
		if p, err := pods.Lister().Pods(namespace).List(everything); err == nil {
			snap.Pods = p
		}
		for _, e := range tr.observe(snap) {
			onEvent(e)
		}
		o := Classify(snap, digest, c.classify)
		if o.Terminal() {
			c.log.DebugContext(ctx, "rollout finished", "namespace", namespace, "name", name, "outcome", o.String(), "after", time.Since(start))
			return o, nil
		}
		last = o
		select {
		case <-ctx.Done():
			if o, ok := timedOut(ctx, start, last); ok {
				return o, nil
			}
			return last, ctx.Err()
		case err := <-fatal:
			return last, explain(err, fmt.Sprintf("watch app %s/%s", namespace, name))
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev, mine := tr.kubeEvent(e); mine {
				onEvent(ev)
			}
		case <-wake:
		case <-tick.C:
		}
	}
}

// timedOut turns an expired ctx deadline into the timeout outcome, with
// where the rollout was when time ran out.
func timedOut(ctx context.Context, start time.Time, last Outcome) (Outcome, bool) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Outcome{}, false
	}
	msg := fmt.Sprintf("not ready after %s", time.Since(start).Round(time.Second))
	if last.Message != "" {
		msg += ": " + last.Message
	}
	return Outcome{Phase: PhaseFailed, Reason: ReasonTimeout, Message: msg}, true
}

// watchEvents streams the namespace's new Kubernetes Events (from now on,
// not its history). Events only add detail to a rollout's story, so when
// they cannot be watched the channel is closed and the rollout is judged
// without them.
func (c *Client) watchEvents(ctx context.Context, namespace string) <-chan *corev1.Event {
	out := make(chan *corev1.Event, 64)
	api := c.cs.CoreV1().Events(namespace)
	list, err := api.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		c.log.DebugContext(ctx, "not watching Kubernetes Events", "namespace", namespace, "err", err)
		close(out)
		return out
	}
	// The retry watcher logs an error when its context ends mid-request,
	// which is how every rollout watch ends; Events are optional detail,
	// so its logs are dropped.
	rw, err := watchtools.NewRetryWatcherWithContext(klog.NewContext(ctx, logr.Discard()), list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return api.Watch(ctx, o)
		},
	})
	if err != nil {
		close(out)
		return out
	}
	go func() {
		defer close(out)
		defer rw.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-rw.Done():
				return
			case ev, ok := <-rw.ResultChan():
				if !ok {
					return
				}
				e, isEvent := ev.Object.(*corev1.Event)
				if !isEvent || (ev.Type != watch.Added && ev.Type != watch.Modified) {
					continue
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
