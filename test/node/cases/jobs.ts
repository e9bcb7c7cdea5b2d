import type { NodeEnvironment } from '../harness/environment.js';

export function jobCases(env: NodeEnvironment): void {
  void env;
}
