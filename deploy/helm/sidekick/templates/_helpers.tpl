{{/* sidekick's one image reference. */}}
{{- define "sidekick.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Secret the server mounts: sidekick-tls, or the one provided. */}}
{{- define "sidekick.tlsSecret" -}}
{{- if eq .Values.certificates.mode "provided" -}}
{{ required "certificates.provided.secretName is required with certificates.mode=provided" .Values.certificates.provided.secretName }}
{{- else -}}
sidekick-tls
{{- end -}}
{{- end -}}

{{/* The Pod webhook's namespaceSelector: the values' selector and the exclusions, release namespace included. */}}
{{- define "sidekick.namespaceSelector" -}}
{{- $selector := deepCopy .Values.webhook.namespaceSelector -}}
{{- $excluded := dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" (append .Values.webhook.excludedNamespaces .Release.Namespace) -}}
{{- $_ := set $selector "matchExpressions" (append (default (list) $selector.matchExpressions) $excluded) -}}
{{ toYaml $selector }}
{{- end -}}

{{/* clientConfig.caBundle with certificates.mode=provided; otherwise filled in after install. */}}
{{- define "sidekick.caBundle" -}}
{{- if eq .Values.certificates.mode "provided" }}
caBundle: {{ required "certificates.provided.caBundle (PEM) is required with certificates.mode=provided" .Values.certificates.provided.caBundle | b64enc }}
{{- end }}
{{- end -}}

{{- define "sidekick.certManagerAnnotations" -}}
{{- if eq .Values.certificates.mode "cert-manager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/sidekick-serving
{{- end }}
{{- end -}}
