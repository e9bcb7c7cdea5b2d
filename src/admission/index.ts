export type { AdmissionRequest, AdmissionResponse, AdmissionReview, AdmissionStatus } from './types.js';
export {
  ADMISSION_API_VERSION,
  DEFAULT_TEMPLATES_CONFIGMAP,
  WORKLOADS_MODES,
  type ValidateDeps,
  type WorkloadsMode,
} from './types.js';
export { handleValidation } from './validate.js';
export { parseReview, type ParsedReview } from './parse.js';
export { allowed, denied, errored, patched, review, serializeReview } from './response.js';
export {
  handleReview,
  MAX_OBJECT_DEPTH,
  SIDECARS_AUDIT_KEY,
  type AdmissionDecision,
  type AdmissionRecord,
  type HandledReview,
  type ReviewDeps,
} from './handler.js';
