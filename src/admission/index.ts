export type { AdmissionRequest, AdmissionResponse, AdmissionReview, AdmissionStatus } from './types.js';
export { ADMISSION_API_VERSION } from './types.js';
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
