import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Operation } from 'fast-json-patch';
import { isObject, type JsonObject } from '../../src/json.js';
import { VERSION } from '../../src/identity.js';
import type { TemplateReload } from '../../src/templates/reloader.js';
import {
  getMetrics,
  metricValue,
  pod,
  startTestServer,
  tempDir,
  waitFor,
  type TestServer,
} from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';
import { kubeletSwap } from '../support/kubelet-swap.js';

const template = (name: string, image: string): string => `apiVersion: sidekick.dev/v1alpha1
kind: SidecarTemplate
metadata:
  name: ${name}
spec:
  description: ${name} for tests
  container:
    image: ${image}
`;

/** Both templates, with images at version `n`. */
const generation = (n: number): Record<string, string> => ({
  'probe.yaml': template('probe', `registry.example/probe:${String(n)}`),
  'helper.yaml': template('helper', `registry.example/helper:${String(n)}`),
});

function nextTemplatesEvent(
  t: TestServer,
  accept: (event: TemplateReload) => boolean,
): Promise<TemplateReload> {
  return waitFor<TemplateReload>(
    (listener) => {
      t.server.events.on('templates', listener);
      return () => t.server.events.off('templates', listener);
    },
    accept,
    10_000,
    'a template reload',
  );
}

describe('the template directory swapped through ..data', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  let configMap: string;

  /** The image of the sidecar named `sidecar` that a Pod asking for it gets now. */
  async function injectedImage(sidecar: string, uid: string): Promise<string | undefined> {
    const body = JSON.stringify(admissionReview(uid, pod('web', { 'sidekick.dev/inject': sidecar })));
    const res = await send(t.server.port, { ca: t.ca, headers: JSON_HEADERS, body });
    assert.equal(res.status, 200);
    const review: unknown = JSON.parse(res.body);
    assert.ok(isObject(review) && isObject(review.response));
    const response = review.response;
    if (response.allowed !== true) return `refused: ${JSON.stringify(response.status)}`;
    const encoded = response.patch;
    assert.ok(typeof encoded === 'string');
    const patch = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Operation[];
    const add = patch.find((op) => op.op === 'add' && op.path === '/spec/initContainers');
    assert.ok(add && add.op === 'add');
    const containers = add.value as JsonObject[];
    return containers.find((c) => c.name === sidecar)?.image as string | undefined;
  }

  before(async () => {
    dir = await tempDir('templates-swap');
    configMap = join(dir.path, 'templates');
    await mkdir(configMap);
    await kubeletSwap(configMap, generation(1), '2025_01_01_00_00_00.000000001');
    t = await startTestServer({ templatesDir: configMap, debounceMs: 50, pollMs: 600_000 });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('the new set is used after a swap', async () => {
    assert.equal(await injectedImage('probe', 'u-before'), 'registry.example/probe:1');
    const firstHash = t.server.templates()?.hash;
    assert.ok(firstHash);

    const reloaded = nextTemplatesEvent(t, (e) => e.ok);
    await kubeletSwap(configMap, generation(2), '2025_01_01_00_01_00.000000002');
    const event = await reloaded;
    assert.ok(event.ok);
    assert.equal(event.previous?.hash, firstHash);
    assert.equal(await injectedImage('probe', 'u-after'), 'registry.example/probe:2');
    assert.equal(await injectedImage('helper', 'u-after-helper'), 'registry.example/helper:2');
    const line = t.logs().find((l) => l.msg === 'templates reloaded');
    assert.ok(line);
    assert.deepEqual(line.templates, ['helper', 'probe']);
  });

  it('an invalid set is reported and counted, and the last good set stays in use', async () => {
    const goodHash = t.server.templates()?.hash;
    const rejected = nextTemplatesEvent(t, (e) => !e.ok);
    await kubeletSwap(
      configMap,
      {
        'probe.yaml': template('probe', 'registry.example/probe:3').replace('image:', 'imagge:'),
        'helper.yaml': 'apiVersion: [unclosed',
      },
      '2025_01_01_00_02_00.000000003',
    );
    const event = await rejected;
    assert.ok(!event.ok);
    assert.equal(event.kept?.hash, goodHash);
    assert.ok(
      event.problems.some((p) => p.includes('probe.yaml') && p.includes('imagge')),
      event.problems.join('\n'),
    );
    assert.ok(
      event.problems.some((p) => p.includes('helper.yaml')),
      event.problems.join('\n'),
    );

    assert.equal(t.server.templates()?.hash, goodHash);
    assert.equal(await injectedImage('probe', 'u-kept'), 'registry.example/probe:2');
    const health = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/readyz' });
    assert.equal(health.status, 200, 'still ready: a good set is in use');

    const metrics = await getMetrics(t.server.metricsPort!);
    assert.equal(metricValue(metrics, 'sidekick_template_reloads_total{result="success"}'), 2);
    assert.equal(metricValue(metrics, 'sidekick_template_reloads_total{result="error"}'), 1);
    assert.equal(metricValue(metrics, 'sidekick_templates_loaded'), 2);
    assert.deepEqual(buildInfo(metrics), [{ version: VERSION, templates_hash: goodHash }]);
    assert.equal(metricValue(metrics, 'sidekick_templates_last_reload_successful'), 0);
    const line = t.logs().find((l) => l.msg === 'template set rejected; the last good set stays in use');
    assert.ok(line);
    assert.equal(line.level, 50);
    assert.equal(line.keptHash, goodHash);

    // Fixed again: taken at once.
    const fixed = nextTemplatesEvent(t, (e) => e.ok);
    await kubeletSwap(configMap, generation(4), '2025_01_01_00_03_00.000000004');
    const fixedEvent = await fixed;
    assert.ok(fixedEvent.ok);
    assert.equal(
      metricValue(await getMetrics(t.server.metricsPort!), 'sidekick_templates_last_reload_successful'),
      1,
    );
    assert.equal(await injectedImage('probe', 'u-fixed'), 'registry.example/probe:4');
    // The build info follows the reload, and only the set in use has a series.
    assert.notEqual(fixedEvent.set.hash, goodHash);
    assert.deepEqual(buildInfo(await getMetrics(t.server.metricsPort!)), [
      { version: VERSION, templates_hash: fixedEvent.set.hash },
    ]);
  });
});

/** The labels of every sidekick_build_info series whose value is 1. */
function buildInfo(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('sidekick_build_info{') && line.endsWith('} 1'))
    .map((line) =>
      Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? ''])),
    );
}

describe('--extra-templates: a second directory added to the base, reloaded when either changes', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  let base: string;
  let extra: string;

  async function sidecarsOf(sidecars: string, uid: string): Promise<Record<string, unknown> | string> {
    const body = JSON.stringify(admissionReview(uid, pod('web', { 'sidekick.dev/inject': sidecars })));
    const res = await send(t.server.port, { ca: t.ca, headers: JSON_HEADERS, body });
    assert.equal(res.status, 200);
    const review: unknown = JSON.parse(res.body);
    assert.ok(isObject(review) && isObject(review.response));
    if (review.response.allowed !== true) return `refused: ${JSON.stringify(review.response.status)}`;
    const encoded = review.response.patch;
    assert.ok(typeof encoded === 'string');
    const patch = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Operation[];
    const add = patch.find((op) => op.op === 'add' && op.path === '/spec/initContainers');
    assert.ok(add && add.op === 'add');
    return Object.fromEntries(
      (add.value as JsonObject[]).map((c) => [typeof c.name === 'string' ? c.name : '?', c.image]),
    );
  }

  /** `name`, which requires `needs`, in the extra directory. */
  const requiring = (name: string, needs: string, image: string): string =>
    template(name, image).replace('spec:\n', `spec:\n  requires: [${needs}]\n`);

  before(async () => {
    dir = await tempDir('templates-extra');
    base = join(dir.path, 'base');
    extra = join(dir.path, 'extra');
    await mkdir(base);
    await mkdir(extra);
    await kubeletSwap(base, generation(1), '2025_01_01_00_00_00.000000001');
    await kubeletSwap(
      extra,
      { 'addon.yaml': requiring('addon', 'probe', 'registry.example/addon:1') },
      '2025_01_01_00_00_00.000000001',
    );
    t = await startTestServer({
      templatesDir: base,
      extraTemplatesDir: extra,
      debounceMs: 50,
      pollMs: 600_000,
    });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('serves the merged set: a base template and an extra one that requires it', async () => {
    assert.deepEqual(await sidecarsOf('addon', 'x-first'), {
      probe: 'registry.example/probe:1',
      addon: 'registry.example/addon:1',
    });
    assert.deepEqual([...(t.server.templates()?.templates.keys() ?? [])], ['addon', 'helper', 'probe']);
    const line = t.logs().find((l) => l.msg === 'templates loaded');
    assert.ok(line);
    assert.equal(line.dir, base);
    assert.equal(line.extraDir, extra);
  });

  it('reloads when the extra directory changes, and when the base does', async () => {
    const firstHash = t.server.templates()?.hash;
    let reloaded = nextTemplatesEvent(t, (e) => e.ok);
    await kubeletSwap(
      extra,
      { 'addon.yaml': requiring('addon', 'helper', 'registry.example/addon:2') },
      '2025_01_01_00_01_00.000000002',
    );
    const event = await reloaded;
    assert.ok(event.ok);
    assert.equal(event.previous?.hash, firstHash);
    assert.deepEqual(await sidecarsOf('addon', 'x-extra'), {
      helper: 'registry.example/helper:1',
      addon: 'registry.example/addon:2',
    });

    reloaded = nextTemplatesEvent(t, (e) => e.ok);
    await kubeletSwap(base, generation(2), '2025_01_01_00_01_00.000000002');
    assert.ok((await reloaded).ok);
    assert.deepEqual(await sidecarsOf('addon', 'x-base'), {
      helper: 'registry.example/helper:2',
      addon: 'registry.example/addon:2',
    });
  });

  it('an extra directory that redefines a base template is rejected naming both files; the set in use stays', async () => {
    const goodHash = t.server.templates()?.hash;
    const rejected = nextTemplatesEvent(t, (e) => !e.ok);
    await kubeletSwap(
      extra,
      {
        'addon.yaml': requiring('addon', 'helper', 'registry.example/addon:3'),
        'mine.yaml': template('probe', 'registry.example/my-probe:1'),
      },
      '2025_01_01_00_02_00.000000003',
    );
    const event = await rejected;
    assert.ok(!event.ok);
    assert.equal(event.kept?.hash, goodHash);
    assert.deepEqual(event.problems, [
      `template 'probe' is defined in both ${join(base, 'probe.yaml')} and ${join(extra, 'mine.yaml')}: a directory that adds templates cannot replace one`,
    ]);
    assert.equal(t.server.templates()?.hash, goodHash);
    assert.deepEqual(await sidecarsOf('addon', 'x-kept'), {
      helper: 'registry.example/helper:2',
      addon: 'registry.example/addon:2',
    });
    const line = t.logs().find((l) => l.msg === 'template set rejected; the last good set stays in use');
    assert.ok(line);
    assert.equal(line.extraDir, extra);
  });
});
