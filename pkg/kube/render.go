package kube

import (
	"bytes"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Objects are what Render made for one app, ready for Cluster.Apply.
type Objects struct {
	// Namespace and Name identify the app; every object has them.
	Namespace, Name string
	// Digest is the artifact digest the pod template runs.
	Digest     string
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	// ConfigMap holds the trust keys; nil when the app has none, and the
	// applier then deletes a ConfigMap left by an earlier version.
	ConfigMap *corev1.ConfigMap
}

// List returns the objects in apply order: the ConfigMap the pods mount
// first, then the Deployment, then the Service.
func (o *Objects) List() []runtime.Object {
	var out []runtime.Object
	if o.ConfigMap != nil {
		out = append(out, o.ConfigMap)
	}
	return append(out, o.Deployment, o.Service)
}

// YAML writes the objects as one multi-document YAML stream, in apply
// order: exactly the documents the applier sends (no status), which is
// what the golden files hold and what `kubectl apply -f` would take.
func (o *Objects) YAML() ([]byte, error) {
	var buf bytes.Buffer
	for i, obj := range o.List() {
		doc, err := applyDocument(obj)
		if err != nil {
			return nil, err
		}
		b, err := yaml.JSONToYAML(doc)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// Render turns an app spec into the objects that run it. It talks to no
// cluster: the same spec always gives the same objects.
func Render(spec AppSpec) (*Objects, error) {
	r, err := resolve(spec)
	if err != nil {
		return nil, err
	}
	o := &Objects{Namespace: r.Namespace, Name: r.Name, Digest: r.digest}
	o.ConfigMap = renderConfigMap(r)
	o.Deployment = renderDeployment(r)
	o.Service = renderService(r)
	return o, nil
}

// commonLabels are on every object; the version label changes per artifact,
// so it is never part of a selector.
func commonLabels(r *resolved) map[string]string {
	l := selectorLabels(r.Name)
	l[LabelManagedBy] = ManagedBy
	l[LabelVersion] = r.versionLabel
	return l
}

func objectMeta(r *resolved, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: r.Namespace, Labels: commonLabels(r)}
}

func renderDeployment(r *resolved) *appsv1.Deployment {
	meta := objectMeta(r, r.Name)
	meta.Annotations = map[string]string{
		AnnotationDigest:       r.digest,
		AnnotationDeploymentID: r.DeploymentID,
	}
	maxUnavailable := intstr.FromInt32(0)
	maxSurge := intstr.FromInt32(1)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: new(r.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(r.Name)},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				// The old version serves until the new one is ready.
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
			},
			ProgressDeadlineSeconds: new(r.deadline),
			RevisionHistoryLimit:    new(r.historyLimit),
			Template:                renderPodTemplate(r),
		},
	}
}

func renderService(r *resolved) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(r, r.Name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selectorLabels(r.Name),
			Ports: []corev1.ServicePort{{
				Name:       "http",
				Protocol:   corev1.ProtocolTCP,
				Port:       r.servicePort,
				TargetPort: intstr.FromString("http"),
			}},
		},
	}
}

func renderConfigMap(r *resolved) *corev1.ConfigMap {
	if len(r.keys) == 0 {
		return nil
	}
	data := make(map[string]string, len(r.keys))
	for _, k := range r.keys {
		data[k.file] = k.pem
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(r, TrustKeysConfigMapName(r.Name)),
		Data:       data,
	}
}

// fetchArgs are aether-fetch's arguments: the pinned reference, the
// destination, the Docker config file when a Secret is mounted, and one
// --key per trust key when re-verification is on.
func fetchArgs(r *resolved) []string {
	args := []string{r.ref, AppDir}
	if r.RegistrySecret != "" {
		args = append(args, "--docker-config", RegistryConfigFile)
	}
	if r.PlainHTTP {
		args = append(args, "--plain-http")
	}
	for _, k := range r.keys {
		args = append(args, "--key", fmt.Sprintf("%s/%s", KeysDir, k.file))
	}
	return args
}
