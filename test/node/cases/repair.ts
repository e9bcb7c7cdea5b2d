import type { NodeEnvironment } from '../harness/environment.js';

export function repairCases(env: NodeEnvironment): void {
  void env;
}
