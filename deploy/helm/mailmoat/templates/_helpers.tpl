{{/* Names and labels. */}}
{{- define "mailmoat.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mailmoat.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: mailmoat.selector (dict "root" $ "component" "ingest"). */}}
{{- define "mailmoat.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mailmoat.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "mailmoat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mailmoat.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The settings every service reads, as container env entries. Written out in full (not from the
chart's ConfigMap) because the pre-install hook Jobs run before any chart object exists.
*/}}
{{- define "mailmoat.env" -}}
- name: MAILMOAT_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrapServers is required in production mode" .Values.kafka.bootstrapServers | quote }}
- name: MAILMOAT_TOPIC_PREFIX
  value: {{ .Values.kafka.topicPrefix | quote }}
- name: MAILMOAT_GROUP_PREFIX
  value: {{ .Values.kafka.groupPrefix | quote }}
- name: MAILMOAT_MAIL_DOMAIN
  value: {{ .Values.mailDomain | quote }}
- name: MAILMOAT_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: MAILMOAT_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required in production mode" .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
- name: MAILMOAT_WEBHOOK_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required" .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.webhookSecretKeyKey }}
{{- include "mailmoat.kafkaEnv" . }}
{{- range $name, $value := .Values.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Kafka's TLS and SASL: the protocol, the credentials from a Secret, certificates as files. */}}
{{- define "mailmoat.kafkaEnv" -}}
{{- $k := .Values.kafka }}
- name: MAILMOAT_KAFKA_SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
{{- if hasPrefix "SASL" $k.securityProtocol }}
- name: MAILMOAT_KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: MAILMOAT_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required with SASL" $k.sasl.existingSecret }}
      key: {{ $k.sasl.usernameKey }}
- name: MAILMOAT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ $k.sasl.passwordKey }}
{{- end }}
{{- if $k.tls.caSecret }}
- name: MAILMOAT_KAFKA_SSL_CAFILE
  value: /etc/mailmoat/kafka-ca/{{ $k.tls.caKey }}
{{- end }}
{{- if $k.tls.clientSecret }}
- name: MAILMOAT_KAFKA_SSL_CERTFILE
  value: /etc/mailmoat/kafka-client/tls.crt
- name: MAILMOAT_KAFKA_SSL_KEYFILE
  value: /etc/mailmoat/kafka-client/tls.key
{{- end }}
{{- end -}}

{{/* The Kafka certificate files, mounted read-only where kafkaEnv points. */}}
{{- define "mailmoat.kafkaVolumeMounts" -}}
{{- if .Values.kafka.tls.caSecret }}
- {name: kafka-ca, mountPath: /etc/mailmoat/kafka-ca, readOnly: true}
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
- {name: kafka-client, mountPath: /etc/mailmoat/kafka-client, readOnly: true}
{{- end }}
{{- end -}}

{{- define "mailmoat.kafkaVolumes" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret: {secretName: {{ .Values.kafka.tls.caSecret }}}
{{- end }}
{{- if .Values.kafka.tls.clientSecret }}
- name: kafka-client
  secret: {secretName: {{ .Values.kafka.tls.clientSecret }}}
{{- end }}
{{- end -}}

{{/* What one service adds to the common settings: dict "root" $ "name" <service>. */}}
{{- define "mailmoat.serviceEnv" -}}
{{- $v := .root.Values -}}
- name: MAILMOAT_METRICS_PORT
  value: {{ $v.metrics.port | quote }}
- name: MAILMOAT_METRICS_HOST
  value: "0.0.0.0"
{{- if eq .name "ingest" }}
- name: MAILMOAT_SMTP_HOST
  value: "0.0.0.0"
- name: MAILMOAT_SMTP_PORT
  value: "2525"
{{- end }}
{{- if eq .name "gateway" }}
- name: MAILMOAT_API_HOST
  value: "0.0.0.0"
- name: MAILMOAT_API_PORT
  value: "8080"
{{- end }}
{{- if eq .name "dispatch" }}
- name: MAILMOAT_RELAY_HOST
  value: {{ required "relay.host is required in production mode" $v.relay.host | quote }}
- name: MAILMOAT_RELAY_PORT
  value: {{ $v.relay.port | quote }}
- name: MAILMOAT_RELAY_STARTTLS
  value: {{ $v.relay.starttls | quote }}
{{- end }}
{{- if hasPrefix "scanner-" .name }}
- name: MAILMOAT_PRIMARY_BACKEND
  value: {{ $v.detectors.primary | quote }}
- name: MAILMOAT_CHECKER_BACKEND
  value: {{ $v.detectors.checker | quote }}
{{- if or (eq $v.detectors.primary "anthropic") (eq $v.detectors.checker "anthropic") }}
- name: MAILMOAT_ANTHROPIC_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.existingSecret }}
      key: {{ $v.secrets.anthropicApiKeyKey }}
{{- end }}
{{- end }}
{{- range $name, $value := (index $v.services .name).env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "mailmoat.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/*
The consumer groups each service reads, with their topics (as the services declare them;
tests/integration/test_helm_chart.py checks the two agree): KEDA scales each Deployment on them.
*/}}
{{- define "mailmoat.consumerGroups" -}}
scanner-primary:
  - {group: scanner-primary, topic: raw-mail}
scanner-checker:
  - {group: scanner-checker, topic: raw-mail}
scanner-consensus:
  - {group: scanner-consensus-intake, topic: raw-mail}
  - {group: scanner-consensus, topic: scan-verdicts}
  - {group: scanner-consensus-graph, topic: sender-graph}
policy:
  - {group: policy-inbound, topic: scanned-mail}
  - {group: policy-outbound, topic: send-requested}
  - {group: policy-sender-status, topic: sender-status}
dispatch:
  - {group: dispatch-mail, topic: send-approved}
  - {group: dispatch-webhooks, topic: inbox-events}
  - {group: dispatch-audit, topic: audit}
reputation:
  - {group: reputation-sent, topic: sent}
  - {group: reputation-feedback, topic: feedback}
  - {group: reputation-sender-status, topic: sender-status}
  - {group: reputation-scanned, topic: scanned-mail}
  - {group: reputation-releases, topic: inbox-events}
{{- end }}

{{/* "true" when KEDA scales service .name (its replicas and CPU autoscaler then stand aside). */}}
{{- define "mailmoat.kedaScales" -}}
{{- $groups := include "mailmoat.consumerGroups" .root | fromYaml -}}
{{- if and .root.Values.keda.enabled (hasKey $groups .name) }}true{{ end -}}
{{- end }}
