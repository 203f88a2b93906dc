{{/*
The rules the Kubernetes runtime needs, no more: the same as pkg/kube's
role.yaml (docs/kubernetes.md); the chart's Go test fails when they drift.
*/}}
{{- define "aether.runtimeRules" -}}
# Server-side apply (patch; create when the object is new), delete, and the
# rollout watch.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Server-side apply of the app's Service and trust-keys ConfigMap; the
# ConfigMap is read before a stale one is deleted.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["create", "patch", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "patch", "delete"]
# The rollout watch: which ReplicaSet and pods run which digest, and why
# they fail.
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
# `aether logs`: the app container's log.
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
# Scheduler and kubelet Events about the app's pods, streamed as deployment
# events.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["list", "watch"]
{{- end }}
