{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "aether.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: RELEASE-aether, or the release name when it already contains
the chart name.
*/}}
{{- define "aether.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aether.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "aether.labels" -}}
helm.sh/chart: {{ include "aether.chart" . }}
{{ include "aether.selectorLabels" . }}
app.kubernetes.io/version: {{ include "aether.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aether
{{- end }}

{{/*
Labels that select the control-plane pods (never change over a release's
life: a Deployment's selector is immutable).
*/}}
{{- define "aether.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aether.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controlplane
{{- end }}

{{- define "aether.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aether.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "aether.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
An image reference from {repository, tag, digest}: by digest when one is
given (REPO@sha256:…), else REPO:TAG with the appVersion as default tag.
*/}}
{{- define "aether.imageRef" -}}
{{- $img := index . 0 }}{{- $root := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository ($img.tag | default $root.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Namespaces apps are deployed into: runtime.namespaces, else the release
namespace.
*/}}
{{- define "aether.targetNamespaces" -}}
{{- if .Values.runtime.namespaces }}
{{- toJson (uniq .Values.runtime.namespaces) }}
{{- else }}
{{- toJson (list .Release.Namespace) }}
{{- end }}
{{- end }}

{{- define "aether.adminSecretName" -}}
{{- .Values.bootstrapAdminKey.existingSecret | default (printf "%s-admin" (include "aether.fullname" .)) }}
{{- end }}

{{- define "aether.databaseSecretName" -}}
{{- .Values.database.postgres.existingSecret | default (printf "%s-database" (include "aether.fullname" .)) }}
{{- end }}

{{- define "aether.registrySecretName" -}}
{{- .Values.registry.existingSecret | default (printf "%s-registry" (include "aether.fullname" .)) }}
{{- end }}

{{- define "aether.trustSecretName" -}}
{{- .Values.trust.existingSecret | default (printf "%s-trust-keys" (include "aether.fullname" .)) }}
{{- end }}

{{- define "aether.hasRegistryConfig" -}}
{{- if or .Values.registry.existingSecret .Values.registry.dockerConfigJson }}true{{ end }}
{{- end }}

{{- define "aether.hasTrustKeys" -}}
{{- if or .Values.trust.existingSecret .Values.trust.keys }}true{{ end }}
{{- end }}

{{- define "aether.sqliteVolume" -}}
{{- if eq .Values.database.type "sqlite" }}true{{ end }}
{{- end }}

{{/*
Checks the values cannot express in the schema alone; every template
includes it, so `helm template` and `helm install` both stop with the
message.
*/}}
{{- define "aether.validate" -}}
{{- if and (eq .Values.database.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount is %d but database.type is sqlite: SQLite is one file on one volume, so the control plane runs as a single replica with it. Set replicaCount: 1, or use PostgreSQL for several replicas (database.type: postgres with database.postgres.existingSecret)." (int .Values.replicaCount)) }}
{{- end }}
{{- if and (eq .Values.database.type "postgres") (not .Values.database.postgres.existingSecret) (not .Values.database.postgres.dsn) }}
{{- fail "database.type is postgres but no DSN is given: set database.postgres.existingSecret (a Secret with the postgres://… DSN under database.postgres.existingSecretKey) or database.postgres.dsn." }}
{{- end }}
{{- if and .Values.runtime.createRegistrySecret (not .Values.registry.dockerConfigJson) }}
{{- fail "runtime.createRegistrySecret needs registry.dockerConfigJson: the chart copies it into each target namespace as runtime.registrySecret." }}
{{- end }}
{{- if and .Values.runtime.createRegistrySecret (not .Values.runtime.registrySecret) }}
{{- fail "runtime.createRegistrySecret needs runtime.registrySecret: the name of the Secret to create in each target namespace." }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (and (ne (toString .Values.podDisruptionBudget.minAvailable) "") (ne (toString .Values.podDisruptionBudget.maxUnavailable) "")) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both (set the other to \"\")." }}
{{- end }}
{{- end }}

{{/*
The config file: only the settings that are set, so the server's
defaults apply to the rest. Keys are the server's config-file keys.
*/}}
{{- define "aether.configFile" -}}
{{- $c := .Values.config -}}
{{- $cfg := dict "addr" (printf ":%d" (int .Values.containerPort)) -}}
{{- with $c.logLevel }}{{ $_ := set $cfg "log_level" . }}{{ end -}}
{{- with $c.logFormat }}{{ $_ := set $cfg "log_format" . }}{{ end -}}
{{- if $c.maxBodyBytes }}{{ $_ := set $cfg "max_body_bytes" (int64 $c.maxBodyBytes) }}{{ end -}}
{{- with $c.shutdownTimeout }}{{ $_ := set $cfg "shutdown_timeout" . }}{{ end -}}
{{- $_ := set $cfg "default_namespace" ($c.defaultNamespace | default (first (include "aether.targetNamespaces" . | fromJsonArray))) -}}
{{- with $c.registryTimeout }}{{ $_ := set $cfg "registry_timeout" . }}{{ end -}}
{{- if $c.maxReferrers }}{{ $_ := set $cfg "max_referrers" (int $c.maxReferrers) }}{{ end -}}
{{- with $c.verificationCacheTTL }}{{ $_ := set $cfg "verification_cache_ttl" . }}{{ end -}}
{{- with .Values.registries }}{{ $_ := set $cfg "registries" (join "," .) }}{{ end -}}
{{- if include "aether.hasRegistryConfig" . }}{{ $_ := set $cfg "registry_config" "/etc/aether/registry/config.json" }}{{ end -}}
{{- $_ := set $cfg "runtime" .Values.runtime.type -}}
{{- toYaml $cfg }}
{{- end }}
