import type { Json } from '../json.js';

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
