import type { NodeEnvironment } from '../harness/environment.js';

export function reloadCases(env: NodeEnvironment): void {
  void env;
}
