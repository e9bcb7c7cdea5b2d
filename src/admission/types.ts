import type { Json } from '../json.js';
import type { TemplateSet, TemplateSource } from '../templates/types.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The parts of an `admission.k8s.io/v1` AdmissionRequest that the webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  subResource: string;
  operation: string;
  namespace: string | undefined;
  name: string | undefined;
  dryRun: boolean;
  /** As received: checked to be a Pod only when the request is one the webhook acts on. */
  object: Json | undefined;
  /** The object before an UPDATE, as received. */
  oldObject: Json | undefined;
}

export interface AdmissionStatus {
  code: number;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** base64 of the JSONPatch document. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export type WorkloadsMode = 'deny' | 'warn';
export const WORKLOADS_MODES: readonly WorkloadsMode[] = ['deny', 'warn'];
export const DEFAULT_TEMPLATES_CONFIGMAP = 'sidekick-templates';

export interface ValidateDeps {
  templates: () => TemplateSet | undefined;
  prefix?: string;
  /** sidekick's own namespace: never injected, and where its templates ConfigMap lives. */
  injectorNamespace?: string;
  /** The name of that ConfigMap. */
  templatesConfigMap?: string;
  /**
   * The files of the directories the set in use was loaded from, base first (`--templates` or the
   * built-ins, then `--extra-templates`): the ConfigMap is checked with the other one added.
   */
  templateSources?: () => readonly TemplateSource[] | undefined;
  /** deny: a workload whose Pods would be refused is refused; warn: it is only warned about. */
  workloads: WorkloadsMode;
}
