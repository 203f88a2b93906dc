package kube

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AppStatus is an app's state on the cluster at one moment.
type AppStatus struct {
	// Exists is false when the app has no Deployment; the rest is empty.
	Exists bool `json:"exists"`
	// Digest and DeploymentID are what the Deployment runs now.
	Digest       string `json:"digest,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
	// Replica counts, as the Deployment's status has them.
	Replicas          int32 `json:"replicas"`
	UpdatedReplicas   int32 `json:"updated_replicas"`
	ReadyReplicas     int32 `json:"ready_replicas"`
	AvailableReplicas int32 `json:"available_replicas"`
	// Outcome classifies the rollout of Digest.
	Outcome Outcome `json:"outcome"`
}

// Status reads the app's Deployment and pods and classifies them.
func (c *Client) Status(ctx context.Context, namespace, name string) (AppStatus, error) {
	d, err := c.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return AppStatus{Outcome: Outcome{Phase: PhaseFailed, Reason: ReasonNotFound,
			Message: fmt.Sprintf("no Deployment %s/%s", namespace, name)}}, nil
	}
	if err != nil {
		return AppStatus{}, explain(err, fmt.Sprintf("get Deployment %s/%s", namespace, name))
	}
	pods, err := c.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: listSelector(name)})
	if err != nil {
		return AppStatus{}, explain(err, fmt.Sprintf("list pods of %s/%s", namespace, name))
	}
	snap := Snapshot{Now: time.Now(), Deployment: d, Pods: podPointers(pods.Items)}
	return statusOf(d, Classify(snap, d.Annotations[AnnotationDigest], c.classify)), nil
}

func statusOf(d *appsv1.Deployment, o Outcome) AppStatus {
	return AppStatus{
		Exists:            true,
		Digest:            d.Annotations[AnnotationDigest],
		DeploymentID:      d.Annotations[AnnotationDeploymentID],
		Replicas:          d.Status.Replicas,
		UpdatedReplicas:   d.Status.UpdatedReplicas,
		ReadyReplicas:     d.Status.ReadyReplicas,
		AvailableReplicas: d.Status.AvailableReplicas,
		Outcome:           o,
	}
}

func podPointers(items []corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
