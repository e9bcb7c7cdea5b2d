import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isObject } from '../../src/json.js';
import type { ControlPlane } from '../../test/e2e/harness/controlplane.js';
import { parseSamples, type Sample } from '../../test/support/metrics-text.js';
import type { ApiTarget } from './create-load.js';

/** The admin's client certificate on disk, for load generators that are not Node. */
export async function apiTarget(cp: ControlPlane): Promise<ApiTarget> {
  const certFile = join(cp.dir, 'bench-admin.crt');
  const keyFile = join(cp.dir, 'bench-admin.key');
  await writeFile(certFile, cp.pki.admin.cert);
  await writeFile(keyFile, cp.pki.admin.key, { mode: 0o600 });
  return { server: cp.server, caFile: cp.pki.caFile, certFile, keyFile };
}

/** The apiserver's own metrics (samples of the families whose names start with `prefix`). */
export async function apiserverMetrics(cp: ControlPlane, prefix = 'apiserver_'): Promise<Sample[]> {
  const response = await cp.api.request('GET', '/metrics');
  if (response.status !== 200 || typeof response.body !== 'string')
    throw new Error(`GET /metrics: ${String(response.status)}`);
  return parseSamples(response.body, prefix);
}

/** How many Pods the namespace holds: one LIST of one item, the rest counted by the apiserver. */
export async function podCount(cp: ControlPlane, namespace: string): Promise<number> {
  const list = await cp.api.get(`/api/v1/namespaces/${namespace}/pods?limit=1`);
  const items = Array.isArray(list.items) ? list.items.length : 0;
  const rest = isObject(list.metadata) ? list.metadata.remainingItemCount : undefined;
  return items + (typeof rest === 'number' ? rest : 0);
}

/**
 * Every Pod of the namespace deleted (Pods no node took are removed at once), waited for, so that
 * the next round starts on an apiserver and etcd with no work left over.
 */
export async function deleteAllPods(cp: ControlPlane, namespace: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  while ((await podCount(cp, namespace)) > 0) {
    if (Date.now() > deadline) throw new Error(`Pods of ${namespace} still there after 600 s`);
    // Thousands of Pods can take the apiserver longer than the client waits (or than its own
    // request timeout): what one call left, the next one deletes.
    await cp.api.request('DELETE', `/api/v1/namespaces/${namespace}/pods`).catch(() => undefined);
    await sleep(250);
  }
}
