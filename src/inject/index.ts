export type { InjectOptions, InjectOutcome, PlannedSidecar, PlannedParameter } from './types.js';
export { DEFAULT_PREFIX, SYSTEM_NAMESPACES } from './types.js';
export { injectPod } from './pipeline.js';
export { patchText } from './patch.js';
