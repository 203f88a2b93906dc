package kube

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Apply server-side-applies objs as FieldManager, forcing ownership of
// every field it sets: the control plane is the source of truth for the
// app, and a field someone changed by hand is taken back. A trust keys
// ConfigMap that the new objects no longer have is deleted afterwards,
// once no new pod needs it.
func (c *Client) Apply(ctx context.Context, objs *Objects) error {
	if objs == nil || objs.Deployment == nil || objs.Service == nil {
		return errors.New("apply: incomplete objects; make them with Render")
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: new(true)}
	for _, obj := range objs.List() {
		if err := c.apply(ctx, objs.Namespace, obj, opts); err != nil {
			return err
		}
	}
	if objs.ConfigMap == nil {
		return c.deleteStaleKeys(ctx, objs.Namespace, objs.Name)
	}
	return nil
}

func (c *Client) apply(ctx context.Context, ns string, obj runtime.Object, opts metav1.PatchOptions) error {
	body, err := applyDocument(obj)
	if err != nil {
		return err
	}
	m, err := metaOf(obj)
	if err != nil {
		return err
	}
	if m.GetNamespace() != ns {
		return fmt.Errorf("apply: %s is in namespace %q, not %q", m.GetName(), m.GetNamespace(), ns)
	}
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	name := m.GetName()
	switch kind {
	case "Deployment":
		_, err = c.cs.AppsV1().Deployments(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case "Service":
		_, err = c.cs.CoreV1().Services(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case "ConfigMap":
		_, err = c.cs.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	default:
		return fmt.Errorf("apply: unexpected kind %q", kind)
	}
	if err != nil {
		return explain(err, fmt.Sprintf("apply %s %s/%s", kind, ns, name))
	}
	c.log.DebugContext(ctx, "applied", "kind", kind, "namespace", ns, "name", name)
	return nil
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("apply: %T has no object metadata", obj)
	}
	return m, nil
}

// deleteStaleKeys removes the app's trust keys ConfigMap when the app no
// longer has keys, but only one this applier made: a ConfigMap of the same
// name that someone else manages is left alone.
func (c *Client) deleteStaleKeys(ctx context.Context, ns, app string) error {
	name := TrustKeysConfigMapName(app)
	cm, err := c.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return explain(err, fmt.Sprintf("get ConfigMap %s/%s", ns, name))
	}
	if cm.Labels[LabelManagedBy] != ManagedBy {
		return nil
	}
	return c.deleteIgnoringMissing(ctx, "ConfigMap", ns, name, &cm.UID)
}

// Delete removes the app's objects. The Deployment's ReplicaSets and pods
// are removed by the garbage collector in the background.
func (c *Client) Delete(ctx context.Context, namespace, name string) error {
	var errs []error
	for _, kind := range []string{"Service", "Deployment", "ConfigMap"} {
		n := name
		if kind == "ConfigMap" {
			n = TrustKeysConfigMapName(name)
		}
		if err := c.deleteIgnoringMissing(ctx, kind, namespace, n, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Client) deleteIgnoringMissing(ctx context.Context, kind, ns, name string, uid *types.UID) error {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	if uid != nil {
		opts.Preconditions = &metav1.Preconditions{UID: uid}
	}
	var err error
	switch kind {
	case "Deployment":
		err = c.cs.AppsV1().Deployments(ns).Delete(ctx, name, opts)
	case "Service":
		err = c.cs.CoreV1().Services(ns).Delete(ctx, name, opts)
	case "ConfigMap":
		err = c.cs.CoreV1().ConfigMaps(ns).Delete(ctx, name, opts)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return explain(err, fmt.Sprintf("delete %s %s/%s", kind, ns, name))
	}
	if err == nil {
		c.log.DebugContext(ctx, "deleted", "kind", kind, "namespace", ns, "name", name)
	}
	return nil
}
