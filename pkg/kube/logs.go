package kube

import (
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bounds on what Logs reads: a log is the app's output, as large as it
// likes; an API answer is not.
const (
	maxLogPods      = 5
	maxLogBytes     = 256 << 10
	defaultLogLines = 200
)

// PodLog is the tail of one pod's app container log.
type PodLog struct {
	Pod  string `json:"pod"`
	Text string `json:"text"`
	// Previous is true when Text is the log of the container's previous
	// run: what a crash-looping app printed before it died.
	Previous bool `json:"previous,omitempty"`
}

// Logs returns the last tailLines lines (200 when 0) of the app
// container's log in each of the app's newest pods (at most 5, at most
// 256 KiB each). A container that restarted gives its previous run's log,
// where the reason it died is.
func (c *Client) Logs(ctx context.Context, namespace, name string, tailLines int64) ([]PodLog, error) {
	if tailLines <= 0 {
		tailLines = defaultLogLines
	}
	list, err := c.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: listSelector(name)})
	if err != nil {
		return nil, explain(err, fmt.Sprintf("list pods of %s/%s", namespace, name))
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool {
		if !pods[i].CreationTimestamp.Equal(&pods[j].CreationTimestamp) {
			return pods[j].CreationTimestamp.Before(&pods[i].CreationTimestamp)
		}
		return pods[i].Name < pods[j].Name
	})
	if len(pods) > maxLogPods {
		pods = pods[:maxLogPods]
	}
	var out []PodLog
	for _, p := range pods {
		previous := false
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == AppContainer && cs.State.Running == nil && cs.LastTerminationState.Terminated != nil {
				previous = true
			}
		}
		text, err := c.podLog(ctx, namespace, p.Name, tailLines, previous)
		if err != nil {
			return out, err
		}
		out = append(out, PodLog{Pod: p.Name, Text: text, Previous: previous})
	}
	return out, nil
}

func (c *Client) podLog(ctx context.Context, namespace, pod string, tailLines int64, previous bool) (string, error) {
	limit := int64(maxLogBytes)
	req := c.cs.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: AppContainer, TailLines: &tailLines, LimitBytes: &limit, Previous: previous,
	})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "", explain(err, fmt.Sprintf("read the log of pod %s/%s", namespace, pod))
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return "", fmt.Errorf("read the log of pod %s/%s: %w", namespace, pod, err)
	}
	return string(b), nil
}
