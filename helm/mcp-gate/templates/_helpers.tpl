{{/*
Names, labels and the facts the templates derive from the gate's config (port, base path,
host). Every template takes these from here, so they agree.
*/}}

{{- define "mcp-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gate.fullname" -}}
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

{{- define "mcp-gate.redisName" -}}
{{- printf "%s-redis" (include "mcp-gate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-gate.labels" -}}
helm.sh/chart: {{ include "mcp-gate.chart" . }}
{{ include "mcp-gate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The gate's pods: selector labels plus the component. */}}
{{- define "mcp-gate.gateSelectorLabels" -}}
{{ include "mcp-gate.selectorLabels" . }}
app.kubernetes.io/component: gate
{{- end }}

{{- define "mcp-gate.redisSelectorLabels" -}}
{{ include "mcp-gate.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "mcp-gate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-gate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-gate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the gate's environment comes from: the user's, or the chart's. */}}
{{- define "mcp-gate.secretName" -}}
{{- default (include "mcp-gate.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The chart-made Secret's data: env var name -> value, empty values left out. */}}
{{- define "mcp-gate.secretData" -}}
{{- $s := .Values.secrets }}
{{- $data := dict }}
{{- range $key, $value := dict "GOOGLE_CLIENT_SECRET" $s.googleClientSecret "MCP_GATE_JWT_SECRET" $s.jwtSecret "MCP_GATE_ENCRYPTION_KEY" $s.encryptionKey "REDIS_PASSWORD" $s.redisPassword "REDIS_URL" $s.redisUrl }}
{{- if $value }}{{ $_ := set $data $key (toString $value) }}{{ end }}
{{- end }}
{{- range $key, $value := $s.extra }}
{{- if $value }}{{ $_ := set $data $key (toString $value) }}{{ end }}
{{- end }}
{{- toJson $data }}
{{- end }}

{{/* The port of config.proxy.addr ("0.0.0.0:8080" -> 8080). */}}
{{- define "mcp-gate.port" -}}
{{- regexFind "[0-9]+$" (toString .Values.config.proxy.addr) }}
{{- end }}

{{/* The port of config.proxy.metricsAddr when it listens on all interfaces (reachable
from outside the pod), else "" (the gate's default, 127.0.0.1:9090, is loopback). */}}
{{- define "mcp-gate.metricsPort" -}}
{{- $addr := toString (hasKey .Values.config.proxy "metricsAddr" | ternary .Values.config.proxy.metricsAddr "127.0.0.1:9090") }}
{{- if regexMatch "^(0\\.0\\.0\\.0|\\[::\\]|::|):[0-9]+$" $addr }}
{{- regexFind "[0-9]+$" $addr }}
{{- end }}
{{- end }}

{{/* The path of config.proxy.baseURL without its trailing slash ("" at the root). */}}
{{- define "mcp-gate.basePath" -}}
{{- trimSuffix "/" (urlParse .Values.config.proxy.baseURL).path }}
{{- end }}

{{/* config.proxy.baseURL without its trailing slash. */}}
{{- define "mcp-gate.baseURL" -}}
{{- trimSuffix "/" .Values.config.proxy.baseURL }}
{{- end }}

{{/* The Ingress host: ingress.host, or baseURL's host without a port. */}}
{{- define "mcp-gate.ingressHost" -}}
{{- default (regexReplaceAll ":[0-9]+$" (urlParse .Values.config.proxy.baseURL).host "") .Values.ingress.host }}
{{- end }}

{{/* The storage the config asks for (the gate's default is memory). */}}
{{- define "mcp-gate.storage" -}}
{{- $auth := .Values.config.proxy.auth | default dict }}
{{- $auth.storage | default "memory" }}
{{- end }}

{{/* REDIS_URL for the gate, or "" when it comes from the Secret (or no Redis is used). */}}
{{- define "mcp-gate.redisURL" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
{{- printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "mcp-gate.redisName" .) }}
{{- else }}
{{- printf "redis://%s:6379/0" (include "mcp-gate.redisName" .) }}
{{- end }}
{{- else }}
{{- .Values.externalRedis.url }}
{{- end }}
{{- end }}

{{/* Writable directories under the read-only root filesystem. */}}
{{- define "mcp-gate.homeDir" -}}/home/mcp-gate{{- end }}

{{/* The config the gate runs: `config` as given, with proxy.workers from `workers`. */}}
{{- define "mcp-gate.config" -}}
{{- $config := deepCopy .Values.config }}
{{- if gt (int .Values.workers) 1 }}
{{- $_ := set $config.proxy "workers" (int .Values.workers) }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* "true" when the config makes this gate a replica of a cluster (config.proxy.cluster). */}}
{{- define "mcp-gate.clustered" -}}
{{- if get .Values.config.proxy "cluster" }}true{{ end }}
{{- end }}
