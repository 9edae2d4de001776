{{/*
Refusals: value sets that would render a gate that cannot work, each with a message that
says what to change. Included once, from configmap.yaml, so every render runs them.
*/}}

{{/* The environment variables a config value reads: {$env: VAR}, or ${VAR} in strings
(a list, as for encryptionKey rotation, reads those of its items). JSON list. */}}
{{- define "mcp-gate.envNames" -}}
{{- $names := list }}
{{- $items := . }}
{{- if not (kindIs "slice" .) }}{{ $items = list . }}{{ end }}
{{- range $v := $items }}
{{- if kindIs "map" $v }}
{{- if hasKey $v "$env" }}{{ $names = append $names (toString (get $v "$env")) }}{{ end }}
{{- else if kindIs "string" $v }}
{{- range $m := regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" $v -1 }}
{{- $names = append $names (trimSuffix "}" (trimPrefix "${" $m)) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{- define "mcp-gate.checks" -}}
{{- $config := .Values.config }}
{{- $auth := $config.proxy.auth | default dict }}
{{- $idp := $auth.idp | default dict }}
{{- $storage := include "mcp-gate.storage" . }}
{{- $secretData := include "mcp-gate.secretData" . | fromJson }}

{{- /* The gate must be reachable from the kubelet and the Service. */}}
{{- $addr := toString $config.proxy.addr }}
{{- if not (regexMatch "^(0\\.0\\.0\\.0|\\[::\\]|::|):[0-9]+$" $addr) }}
{{- fail (printf "mcp-gate: config.proxy.addr is %q; in a pod the gate must listen on all interfaces, e.g. 0.0.0.0:8080" $addr) }}
{{- end }}

{{- /* Prometheus scrapes the metrics port from outside the pod. */}}
{{- if and .Values.metrics.serviceMonitor.enabled (not (include "mcp-gate.metricsPort" .)) }}
{{- fail (printf "mcp-gate: metrics.serviceMonitor.enabled is true, but config.proxy.metricsAddr (%q; absent means 127.0.0.1:9090) does not listen on all interfaces, so Prometheus cannot reach it; set it to 0.0.0.0:9090 (the chart's default)" (toString (get $config.proxy "metricsAddr"))) }}
{{- end }}

{{- /* Secrets in the config would land in a ConfigMap. */}}
{{- $redisConfig := $auth.redis | default dict }}
{{- $keys := dict "config.proxy.auth.idp.clientSecret" (list $idp.clientSecret "secrets.googleClientSecret" "GOOGLE_CLIENT_SECRET") "config.proxy.auth.jwtSecret" (list $auth.jwtSecret "secrets.jwtSecret" "MCP_GATE_JWT_SECRET") "config.proxy.auth.encryptionKey" (list $auth.encryptionKey "secrets.encryptionKey" "MCP_GATE_ENCRYPTION_KEY") "config.proxy.auth.redis.password" (list $redisConfig.password "secrets.redisPassword" "REDIS_PASSWORD") "config.proxy.auth.redis.sentinelPassword" (list $redisConfig.sentinelPassword "secrets.extra.REDIS_SENTINEL_PASSWORD" "REDIS_SENTINEL_PASSWORD") }}
{{- range $path, $entry := $keys }}
{{- $value := index $entry 0 }}
{{- if and $value (not (include "mcp-gate.envNames" $value | fromJsonArray)) }}
{{- fail (printf "mcp-gate: %s holds a literal secret, which would be stored in a ConfigMap; write {$env: %s} there and put the value in %s (or in existingSecret under %s)" $path (index $entry 2) (index $entry 1) (index $entry 2)) }}
{{- end }}
{{- end }}
{{- if and (kindIs "string" $redisConfig.url) (regexMatch "^[a-z]+://[^/]*@" (toString $redisConfig.url)) (not (include "mcp-gate.envNames" $redisConfig.url | fromJsonArray)) }}
{{- fail "mcp-gate: config.proxy.auth.redis.url holds credentials, which would be stored in a ConfigMap; write url: {$env: REDIS_URL} (externalRedis.url or secrets.redisUrl), or keep the URL without them and set password: {$env: REDIS_PASSWORD} (secrets.redisPassword)" }}
{{- end }}

{{- /* Redis: exactly one source, and only with storage: redis. */}}
{{- if and .Values.redis.enabled .Values.externalRedis.url }}
{{- fail "mcp-gate: redis.enabled and externalRedis.url are both set; choose the bundled Redis or an external one" }}
{{- end }}
{{- if and (ne $storage "redis") (or .Values.redis.enabled .Values.externalRedis.url) }}
{{- fail (printf "mcp-gate: a Redis is configured (redis.enabled or externalRedis.url) but config.proxy.auth.storage is %q; set storage: redis and redis: {url: {$env: REDIS_URL}} in config, or drop the Redis" $storage) }}
{{- end }}
{{- if eq $storage "redis" }}
{{- if $redisConfig.sentinels }}
{{- if or .Values.redis.enabled .Values.externalRedis.url }}
{{- fail "mcp-gate: config.proxy.auth.redis.sentinels finds the primary through the sentinels, so the bundled Redis (redis.enabled) or externalRedis.url would go unused; drop it" }}
{{- end }}
{{- else if not $redisConfig.url }}
{{- fail "mcp-gate: config.proxy.auth.storage is redis but config.proxy.auth.redis has no url (or sentinels); set redis: {url: {$env: REDIS_URL}} in config (the chart sets REDIS_URL)" }}
{{- else if has "REDIS_URL" (include "mcp-gate.envNames" $redisConfig.url | fromJsonArray) }}
{{- if not (or .Values.redis.enabled .Values.externalRedis.url .Values.existingSecret (hasKey $secretData "REDIS_URL")) }}
{{- fail "mcp-gate: config.proxy.auth.storage is redis but no Redis is configured; set redis.enabled=true (bundled), externalRedis.url, or REDIS_URL in secrets.redisUrl / existingSecret" }}
{{- end }}
{{- end }}
{{- /* Redis data outlives the pod: the keys that sign and encrypt it must be fixed. */}}
{{- range $key := list "jwtSecret" "encryptionKey" }}
{{- if not (include "mcp-gate.envNames" (get $auth $key) | fromJsonArray) }}
{{- fail (printf "mcp-gate: config.proxy.auth.storage is redis, but config.proxy.auth.%s is not set, so every restart and every replica would make its own key; set %s: {$env: %s} in config and its value in secrets.%s or existingSecret" $key $key (ternary "MCP_GATE_JWT_SECRET" "MCP_GATE_ENCRYPTION_KEY" (eq $key "jwtSecret")) $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.auth.enabled (not .Values.existingSecret) }}
{{- if not .Values.secrets.redisPassword }}
{{- fail "mcp-gate: the bundled Redis has a password: set secrets.redisPassword (URL-safe, e.g. `openssl rand -hex 24`) or give REDIS_PASSWORD in existingSecret (or set redis.auth.enabled=false)" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9._~-]+$" (toString .Values.secrets.redisPassword)) }}
{{- fail "mcp-gate: secrets.redisPassword must use only URL-safe characters (letters, digits, . _ ~ -), since it goes into REDIS_URL" }}
{{- end }}
{{- end }}

{{- /* The chart's `workers` is the one place the number of workers is set. */}}
{{- $configWorkers := get $config.proxy "workers" }}
{{- if and $configWorkers (ne (int $configWorkers) (int .Values.workers)) }}
{{- fail (printf "mcp-gate: config.proxy.workers is %d but the chart's workers value is %d; set workers: %d and drop config.proxy.workers (the chart sets it, and opens the internal ports to match)" (int $configWorkers) (int .Values.workers) (int $configWorkers)) }}
{{- end }}

{{- /* Several replicas share state only through Redis, with keys every replica knows,
and relay each other's MCP sessions (stdio children, streams) over the internal port. */}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled (gt (int .Values.workers) 1) }}
{{- $why := ternary "autoscaling.enabled is true" (printf "replicaCount is %d" (int .Values.replicaCount)) .Values.autoscaling.enabled }}
{{- if and (not .Values.autoscaling.enabled) (le (int .Values.replicaCount) 1) }}
{{- $why = printf "workers is %d" (int .Values.workers) }}
{{- end }}
{{- if ne $storage "redis" }}
{{- fail (printf "mcp-gate: %s, but with storage %q each replica keeps its own tokens and sessions; more than one replica needs config.proxy.auth.storage: redis (with redis.enabled, externalRedis.url or the sentinels of config.proxy.auth.redis) and fixed jwtSecret and encryptionKey from a Secret; or run one replica (replicaCount: 1, autoscaling.enabled: false)" $why $storage) }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- range $key := list "jwtSecret" "encryptionKey" }}
{{- $standard := ternary "MCP_GATE_JWT_SECRET" "MCP_GATE_ENCRYPTION_KEY" (eq $key "jwtSecret") }}
{{- range $name := include "mcp-gate.envNames" (get $auth $key) | fromJsonArray }}
{{- if not (hasKey $secretData $name) }}
{{- $value := ternary (printf "secrets.%s" $key) (printf "secrets.extra.%s" $name) (eq $name $standard) }}
{{- fail (printf "mcp-gate: %s, and config.proxy.auth.%s reads %s, but the chart's Secret has no value for it; set %s, or use existingSecret" $why $key $name $value) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $cluster := get $config.proxy "cluster" | default dict }}
{{- if not (has "MCP_GATE_ADVERTISE_URL" (include "mcp-gate.envNames" (get $cluster "advertiseURL") | fromJsonArray)) }}
{{- fail (printf "mcp-gate: %s, but config.proxy.cluster.advertiseURL does not read MCP_GATE_ADVERTISE_URL, so a session opened on one replica would fail on the others; add cluster: {advertiseURL: {$env: MCP_GATE_ADVERTISE_URL}} under config.proxy (the chart sets it to http://$(POD_IP):%d)" $why (int .Values.cluster.internalPort)) }}
{{- end }}
{{- end }}
{{- end }}
