import type { InjectOptions, InjectOutcome } from './types.js';

export function injectPod(pod: unknown, options: InjectOptions): InjectOutcome {
  throw new Error(`injectPod: being written (${typeof pod}, ${options.namespace})`);
}
