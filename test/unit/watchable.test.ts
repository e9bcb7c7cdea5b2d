import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseSidecars } from '../../src/inject/order.js';
import { injectPod } from '../../src/inject/pipeline.js';
import { isObject, type JsonObject } from '../../src/json.js';
import { parseTemplateFiles } from '../../src/templates/load.js';
import { fixtureTemplates, loadTemplateDirs, template } from '../support/templates.js';
import { repoPath } from '../support/paths.js';

const WATCHER = template(
  'watcher',
  `  description: w
  parameters:
    volumes: { type: list, description: v, default: [] }
  podVolumeMounts: { parameter: volumes, select: config, mountPath: '/w/{{ volume }}', arg: '--dir={{ dir }}' }
  container:
    image: img/w:1
`,
);
const SYNCER = template(
  'syncer',
  `  description: s
  volumes: [ { name: data, emptyDir: {} } ]
  watchable: [ { volume: data, dir: link } ]
  container:
    image: img/s:1
`,
);

function problemsOf(spec: string): string[] {
  const load = parseTemplateFiles([{ path: 'x.yaml', text: template('x', spec) }], 'fixtures');
  return load.ok ? [] : [...load.problems];
}

function initContainer(pod: JsonObject, name: string): JsonObject {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const found = (Array.isArray(spec.initContainers) ? spec.initContainers : []).find(
    (c) => isObject(c) && c.name === name,
  );
  assert.ok(isObject(found), `no init container ${name}`);
  return found;
}

describe('watchable volumes', () => {
  it('are checked: a template volume, and a relative dir that stays inside it', () => {
    const base = `  description: d\n  volumes: [ { name: data, emptyDir: {} } ]\n  container:\n    image: img/x:1\n`;
    assert.deepEqual(problemsOf(`${base}  watchable: [ { volume: data, dir: current } ]\n`), []);
    assert.match(
      problemsOf(`${base}  watchable: [ { volume: other } ]\n`).join(),
      /watchable\[0\]\.volume: must name/,
    );
    for (const dir of ['../up', '/abs', 'a/./b', 'a/../b', '']) {
      assert.match(
        problemsOf(`${base}  watchable: [ { volume: data, dir: '${dir}' } ]\n`).join(),
        /watchable\[0\]\.dir: must be a relative path/,
        dir,
      );
    }
    assert.match(problemsOf(`${base}  watchable: { volume: data }\n`).join(), /watchable: must be a list/);
  });

  it('order a watcher after the sidecars whose volumes it watches, whatever the annotation order', () => {
    const set = fixtureTemplates({ 'w.yaml': WATCHER, 's.yaml': SYNCER });
    const problems: string[] = [];
    const chosen = chooseSidecars(['watcher', 'syncer'], set, 'sidekick.dev/inject', problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      chosen.map((c) => c.template.name),
      ['syncer', 'watcher'],
    );
    assert.deepEqual(chosen[1]?.watches, ['syncer']);
    // Alone, the watcher depends on nothing.
    assert.deepEqual(chooseSidecars(['watcher'], set, 'sidekick.dev/inject', [])[0]?.dependsOn, []);
  });

  it("are a watcher's default volumes, watched at their dir; other sidecar volumes are not", async () => {
    const templates = await loadTemplateDirs([repoPath('templates')]);
    const pod = {
      metadata: {
        name: 'web',
        annotations: {
          'sidekick.dev/inject': 'config-watcher, git-sync, db-proxy',
          'sidekick.dev/git-sync.repo': 'https://git.example.com/config.git',
          'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/reload',
          'sidekick.dev/db-proxy.instance': 'my-project:us-central1:my-db',
          'sidekick.dev/db-proxy.credentials-secret': 'db-key',
        },
      },
      spec: { containers: [{ name: 'app', image: 'app:1' }] },
    };
    const out = injectPod(pod, { templates, namespace: 'team-a', injectorNamespace: 'sidekick-system' });
    assert.equal(out.decision, 'inject', JSON.stringify(out));
    const watcher = initContainer(out.pod, 'config-watcher');
    const args = (Array.isArray(watcher.args) ? watcher.args : []).filter(
      (a) => typeof a === 'string' && a.startsWith('--dir='),
    );
    assert.deepEqual(args, ['--dir=/sidekick/watch/sidekick-git-sync-repo/current']);
    assert.deepEqual(out.sidecars.indexOf('git-sync') < out.sidecars.indexOf('config-watcher'), true);
  });
});
