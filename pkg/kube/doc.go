// Package kube runs verified artifacts on Kubernetes.
//
// It has two halves kept apart: a pure renderer (Render: an artifact digest
// and an app's settings in, typed k8s.io/api objects out, no client) and a
// Cluster that server-side-applies those objects, watches the rollout and
// classifies what it sees into a Ready or Failed outcome with a
// machine-readable reason. The control plane wraps Cluster in its Runtime;
// docs/kubernetes.md describes what is rendered and the RBAC Role (Role,
// RoleYAML) the applier needs.
package kube
