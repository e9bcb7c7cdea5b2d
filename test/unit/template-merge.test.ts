// --extra-templates: a directory's templates added to the base set (the built-ins or --templates),
// merged by the one function every path loads through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTemplateDirs, readTemplateFiles } from '../../src/templates/load.js';
import { mergeTemplateSources } from '../../src/templates/merge.js';
import type { TemplateLoad, TemplateSource } from '../../src/templates/types.js';
import { repoPath } from '../support/paths.js';
import { ORDERING_TEMPLATES, template } from '../support/templates.js';

const SECURE = `
    securityContext:
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: { drop: [ALL] }
      seccompProfile: { type: RuntimeDefault }`;

/** A template that passes the lint, with the given `requires`/`after` lines. */
function sidecar(name: string, deps = '', image = `img/${name}:1`): string {
  return template(
    name,
    `  description: ${name}\n${deps}  container:
    image: ${image}
    startupProbe: { httpGet: { path: /ready, port: 8080 } }
    resources: { requests: { cpu: 10m, memory: 16Mi }, limits: { cpu: 100m, memory: 64Mi } }${SECURE}\n`,
  );
}

function source(dir: string, files: Record<string, string>): TemplateSource {
  return { dir, files: Object.entries(files).map(([name, text]) => ({ path: `${dir}/${name}`, text })) };
}

function problems(load: TemplateLoad): readonly string[] {
  assert.ok(!load.ok, 'expected the set to be refused');
  return load.problems;
}

function names(load: TemplateLoad): string[] {
  assert.ok(load.ok, load.ok ? '' : load.problems.join('\n'));
  return [...load.set.templates.keys()];
}

const base = source('/a', { 'db-proxy.yaml': sidecar('db-proxy'), 'vault.yaml': sidecar('vault') });

describe('merging template directories', () => {
  it('adds the extra directory’s templates to the base set', () => {
    const load = mergeTemplateSources([base, source('/b', { 'web.yaml': sidecar('web') })]);
    assert.deepEqual(names(load), ['db-proxy', 'vault', 'web']);
    assert.ok(load.ok);
    assert.deepEqual(load.set.dirs, ['/a', '/b']);
    assert.equal(load.set.templates.get('web')?.source, '/b/web.yaml');
    assert.deepEqual(load.set.warnings, []);
  });

  it('refuses a name defined in both, naming both files, whatever the file names', () => {
    const extra = source('/b', {
      'proxy.yaml': sidecar('db-proxy', '', 'img/other:2'),
      'ok.yaml': sidecar('ok'),
    });
    assert.deepEqual(problems(mergeTemplateSources([base, extra])), [
      "template 'db-proxy' is defined in both /a/db-proxy.yaml and /b/proxy.yaml: a directory that adds templates cannot replace one",
    ]);
  });

  it('keeps the message of a name defined twice within one directory', () => {
    const one = source('/a', { 'x.yaml': sidecar('x'), 'y.yaml': sidecar('x') });
    assert.deepEqual(problems(mergeTemplateSources([one])), [
      "/a/y.yaml: metadata.name: 'x' is also defined in /a/x.yaml",
    ]);
  });

  it('resolves requires and after across the directories, both ways', () => {
    const extra = source('/b', {
      'creds.yaml': sidecar('creds', '  requires: [vault]\n  after: [db-proxy]\n'),
    });
    assert.deepEqual(names(mergeTemplateSources([base, extra])), ['creds', 'db-proxy', 'vault']);
    // A base template may name one that only the extra directory has.
    const needsExtra = source('/a', { 'app.yaml': sidecar('app', '  requires: [helper]\n') });
    const helper = source('/b', { 'helper.yaml': sidecar('helper') });
    assert.deepEqual(names(mergeTemplateSources([needsExtra, helper])), ['app', 'helper']);
    // Alone, each misses what the other has.
    assert.deepEqual(problems(mergeTemplateSources([extra])), [
      "/b/creds.yaml: spec.requires: no template named 'vault'",
      "/b/creds.yaml: spec.after: no template named 'db-proxy'",
    ]);
    assert.deepEqual(problems(mergeTemplateSources([needsExtra])), [
      "/a/app.yaml: spec.requires: no template named 'helper'",
    ]);
  });

  it('finds a cycle that runs through both directories', () => {
    const a = source('/a', { 'p.yaml': sidecar('p', '  requires: [q]\n') });
    const b = source('/b', { 'q.yaml': sidecar('q', '  after: [p]\n') });
    assert.deepEqual(problems(mergeTemplateSources([a, b])), [
      'dependency cycle through requires/after: p -> q -> p',
    ]);
  });

  it('refuses an extra directory without templates, naming it', () => {
    assert.deepEqual(problems(mergeTemplateSources([base, source('/empty', {})])), [
      '/empty: no template files (*.yaml)',
    ]);
  });

  it('hashes the merged set: an added or changed extra template changes it, the order of directories does not', () => {
    const hash = (load: TemplateLoad): string => {
      assert.ok(load.ok, load.ok ? '' : load.problems.join('\n'));
      return load.set.hash;
    };
    const alone = hash(mergeTemplateSources([base]));
    const web1 = source('/b', { 'web.yaml': sidecar('web') });
    const web2 = source('/b', { 'web.yaml': sidecar('web', '', 'img/web:2') });
    const merged = hash(mergeTemplateSources([base, web1]));
    assert.notEqual(merged, alone);
    assert.notEqual(hash(mergeTemplateSources([base, web2])), merged);
    assert.equal(hash(mergeTemplateSources([web1, base])), merged);
    // The same templates in one directory are the same set.
    const together = source('/c', {
      'db-proxy.yaml': sidecar('db-proxy'),
      'vault.yaml': sidecar('vault'),
      'web.yaml': sidecar('web'),
    });
    assert.equal(hash(mergeTemplateSources([together])), merged);
  });

  it('loads the built-ins with a directory that requires one of them', async () => {
    const builtin = await loadTemplateDirs({ base: repoPath('templates') });
    const load = await loadTemplateDirs({ base: repoPath('templates'), extra: ORDERING_TEMPLATES });
    assert.ok(builtin.ok && load.ok);
    const files = await readTemplateFiles(repoPath('templates'));
    assert.equal(builtin.set.templates.size, files.length);
    assert.deepEqual(
      [...load.set.templates.keys()],
      [...builtin.set.templates.keys(), 'creds-proxy', 'token-refresher'].sort(),
    );
    assert.notEqual(load.set.hash, builtin.set.hash);
    // The fixtures alone, as --templates, replace the built-ins and miss vault-agent.
    assert.deepEqual(problems(await loadTemplateDirs({ base: ORDERING_TEMPLATES })), [
      `${ORDERING_TEMPLATES}/creds-proxy.yaml: spec.requires: no template named 'vault-agent'`,
    ]);
    const missing = await loadTemplateDirs({ base: repoPath('templates'), extra: '/nonexistent/extra' });
    assert.match(problems(missing).join('\n'), /^\/nonexistent\/extra: ENOENT/);
  });
});
