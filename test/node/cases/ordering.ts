import type { NodeEnvironment } from '../harness/environment.js';

export function orderingCases(env: NodeEnvironment): void {
  void env;
}
