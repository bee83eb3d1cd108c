{{- define "gridstream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gridstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "gridstream.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "gridstream.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The name of one service's objects: (list $ "energy"). */}}
{{- define "gridstream.serviceName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "gridstream.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gridstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "gridstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gridstream
{{- end }}

{{/* Selector labels of one service's pods: (list $ "energy"). */}}
{{- define "gridstream.selectorLabels" -}}
{{- $root := index . 0 }}
app.kubernetes.io/name: {{ include "gridstream.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "gridstream.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "gridstream.secretName" -}}
{{- default (include "gridstream.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{- define "gridstream.topicPrefix" -}}
{{- if hasKey .Values.config "GS_TOPIC_PREFIX" }}{{ .Values.config.GS_TOPIC_PREFIX }}{{ else }}gridstream.{{ end }}
{{- end }}

{{/*
The ConfigMap's data: every setting that is not a password. Empty values are left out, so the
service keeps its own default (an empty variable would be refused).
*/}}
{{- define "gridstream.configData" -}}
{{- $data := dict
  "GS_KAFKA_BROKERS" .Values.kafka.brokers
  "GS_KAFKA_SASL_MECHANISM" .Values.kafka.sasl.mechanism
  "GS_KAFKA_SASL_USERNAME" .Values.kafka.sasl.username
  "GS_QDB_HTTP_URL" .Values.questdb.httpUrl
  "GS_QDB_HTTP_USER" .Values.questdb.httpUser
  "GS_QDB_PG_HOST" .Values.questdb.pgHost
  "GS_QDB_PG_USER" .Values.questdb.pgUser
  "GS_MONGO_URL" .Values.mongodb.url
  "GS_MONGO_USERNAME" .Values.mongodb.username
  "GS_MQTT_URL" .Values.mosquitto.url
  "GS_HEALTH_PORT" (toString .Values.healthPort)
  "GS_HEALTH_HOST" "0.0.0.0"
}}
{{- if .Values.kafka.tls }}{{ $_ := set $data "GS_KAFKA_TLS" "true" }}{{ end }}
{{- range $key, $value := .Values.config }}
{{- if hasSuffix "PASSWORD" $key }}
{{- fail (printf "config.%s: passwords go in secret.passwords (or secret.existingSecret), not in the ConfigMap" $key) }}
{{- end }}
{{- $_ := set $data $key (toString $value) }}
{{- end }}
{{- range $key, $value := $data }}
{{- if ne $value "" }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
One container's environment: (dict "root" $ "configMap" NAME "mqtt" BOOL "mqttAdmin" BOOL
"health" BOOL). The settings docker-compose.yml gives every service, by reference to the ConfigMap
and the Secret; GS_MQTT_* only where MQTT is spoken; the health port only where one is served.
*/}}
{{- define "gridstream.env" -}}
{{- $root := .root }}
{{- $config := include "gridstream.configData" $root | fromYaml }}
{{- $mqttKeys := list "GS_MQTT_URL" }}
{{- $healthKeys := list "GS_HEALTH_PORT" "GS_HEALTH_HOST" }}
{{- range $key, $_ := $config }}
{{- if and (has $key $mqttKeys) (not $.mqtt) }}{{ continue }}{{ end }}
{{- if and (has $key $healthKeys) (not $.health) }}{{ continue }}{{ end }}
- name: {{ $key }}
  valueFrom:
    configMapKeyRef:
      name: {{ $.configMap }}
      key: {{ $key }}
{{- end }}
{{- $passwords := list "GS_KAFKA_SASL_PASSWORD" "GS_QDB_HTTP_PASSWORD" "GS_QDB_PG_PASSWORD" "GS_MONGO_PASSWORD" }}
{{- if .mqtt }}{{ $passwords = append $passwords "GS_MQTT_PASSWORD" }}{{ end }}
{{- if .mqttAdmin }}{{ $passwords = append $passwords "GS_MQTT_ADMIN_PASSWORD" }}{{ end }}
{{- range $passwords }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $.secret }}
      key: {{ . }}
      # Left unset where the Secret has no such key: the service then sends no password.
      optional: true
{{- end }}
{{- end }}

{{/* The node process of a service: node, its flags, the heap bound, its main file, its arguments. */}}
{{- define "gridstream.args" -}}
{{- $heapMiB := max 64 (div (int .memoryMiB) 2) }}
{{- $args := concat (list "node") (default (list) .nodeFlags) (list (printf "--max-old-space-size=%d" $heapMiB) .main) (default (list) .args) }}
{{- toYaml $args }}
{{- end }}

{{- define "gridstream.resources" -}}
requests:
  cpu: {{ .cpu | quote }}
  memory: {{ printf "%dMi" (int .memoryMiB) }}
limits:
  memory: {{ printf "%dMi" (int .memoryMiB) }}
{{- end }}

{{/* A checksum of what the pods read, so a changed setting or password rolls them. */}}
{{- define "gridstream.checksums" -}}
checksum/config: {{ include "gridstream.configData" . | sha256sum }}
{{- if not .Values.secret.existingSecret }}
checksum/secret: {{ toYaml .Values.secret.passwords | sha256sum }}
{{- end }}
{{- end }}
