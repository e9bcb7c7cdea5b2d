import type { E2eEnvironment } from './environment.js';
import { INJECT, nativeSidecarNames, pod } from './objects.js';

export interface PodLoad {
  created: number;
  /** Each failure: the Pod's name and why. */
  failed: string[];
  stop: () => Promise<void>;
}

/**
 * Pods with a log-shipper sidecar created one after another in `namespace` until stopped; each
 * must be admitted with its sidecar (a Pod admitted without it counts as failed).
 */
export function createPodsContinuously(env: E2eEnvironment, namespace: string, prefix: string): PodLoad {
  const state = { running: true };
  const load: PodLoad = { created: 0, failed: [], stop: () => Promise.resolve() };
  const loop = (async () => {
    while (state.running) {
      const name = `${prefix}-${String(load.created + load.failed.length)}`;
      try {
        const created = await env.createPod(
          namespace,
          pod({ name, annotations: { [INJECT]: 'log-shipper' } }),
        );
        if (nativeSidecarNames(created.object).join() === 'log-shipper') load.created++;
        else load.failed.push(`${name}: admitted without its sidecar`);
      } catch (error) {
        load.failed.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  load.stop = async () => {
    state.running = false;
    await loop;
  };
  return load;
}
