{{- define "kubricks.name" -}}kubricks{{- end -}}

{{- define "kubricks.fullname" -}}
{{- if contains "kubricks" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-kubricks" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "kubricks.labels" -}}
app.kubernetes.io/name: kubricks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kubricks.selector" -}}
app.kubernetes.io/name: kubricks
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubricks.dockerHost" -}}
{{- if .Values.builder.dind.enabled -}}tcp://localhost:2375{{- else -}}{{ .Values.builder.dockerHost }}{{- end -}}
{{- end -}}

{{/* What the operator does in the namespaces it watches; also what it grants Spark drivers, so it must hold it. */}}
{{- define "kubricks.rules" -}}
- apiGroups: [kubricks.dev]
  resources: [sparkimages, sparkjobs, scheduledsparkjobs, databricksworkspaces, databricksclusters]
  verbs: [get, list, watch, patch, update]
- apiGroups: [kubricks.dev]
  resources: [sparkimages/status, sparkjobs/status, scheduledsparkjobs/status, databricksworkspaces/status, databricksclusters/status]
  verbs: [get, patch, update]
# SparkJobs go after their TTL; ScheduledSparkJobs create theirs, and delete them for Replace and their history limits.
- apiGroups: [kubricks.dev]
  resources: [sparkjobs]
  verbs: [create, delete]
- apiGroups: [""]
  resources: [pods, services, configmaps, persistentvolumeclaims]
  verbs: [get, list, watch, create, update, patch, delete, deletecollection]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, create, update, patch, delete, deletecollection]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, create, update, patch, delete, deletecollection]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, podmonitors]
  verbs: [get, list, create, update, patch, delete, deletecollection]
- apiGroups: [scheduling.volcano.sh]
  resources: [podgroups]
  verbs: [get, list, create, update, patch, delete, deletecollection]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get, create, patch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, create, patch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
