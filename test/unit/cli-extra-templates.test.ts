// `--templates DIR` replaces the built-in templates; `--extra-templates DIR` adds to them. The real
// `sidekick` binary, through every command that loads templates.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { isObject, type Json } from '../../src/json.js';
import { repoPath } from '../support/paths.js';
import { ORDERING_TEMPLATES } from '../support/templates.js';

const BIN = repoPath('dist', 'src', 'main.js');

function sidekick(
  args: string[],
  input?: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    cwd: repoPath(),
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A Pod asking for a built-in sidecar (db-proxy) and one of the extra directory (creds-proxy). */
const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    sidekick.dev/inject: creds-proxy, db-proxy
    sidekick.dev/db-proxy.instance: my-project:us-central1:orders
    sidekick.dev/vault-agent.role: web
spec:
  containers: [{ name: app, image: registry.example/app:1.0 }]
`;

function sidecars(stdout: string): unknown[] {
  const out = parse(stdout) as Json;
  assert.ok(isObject(out) && isObject(out.spec) && Array.isArray(out.spec.initContainers));
  return out.spec.initContainers.map((c) => (isObject(c) ? c.name : null));
}

function hashOf(stdout: string): string {
  const hash = /templates.* ([0-9a-f]{16}) \(/.exec(stdout)?.[1];
  assert.ok(hash, stdout);
  return hash;
}

describe('sidekick --extra-templates', () => {
  let dup: string;
  const builtinProxy = repoPath('templates', 'db-proxy.yaml');
  before(() => {
    dup = mkdtempSync(join(tmpdir(), 'sidekick-extra-'));
    // A second db-proxy under another file name: an extra directory cannot replace a built-in.
    writeFileSync(
      join(dup, 'proxy.yaml'),
      'apiVersion: sidekick.dev/v1alpha1\nkind: SidecarTemplate\nmetadata: { name: db-proxy }\nspec:\n  description: mine\n  container: { image: registry.example/proxy:1 }\n',
    );
  });
  after(() => {
    rmSync(dup, { recursive: true, force: true });
  });

  it('inject uses a built-in and an extra template, and requires across the two resolve', () => {
    const { status, stdout, stderr } = sidekick(['inject', '--extra-templates', ORDERING_TEMPLATES], POD);
    assert.equal(status, 0, stderr);
    // creds-proxy (extra) requires vault-agent (built-in), pulled in before it.
    assert.deepEqual(sidecars(stdout), ['vault-agent', 'creds-proxy', 'db-proxy']);
    const env = sidekick(['inject'], POD, { SIDEKICK_EXTRA_TEMPLATES: ORDERING_TEMPLATES });
    assert.equal(env.status, 0, env.stderr);
    assert.equal(env.stdout, stdout, 'SIDEKICK_EXTRA_TEMPLATES is the same option');
    // Without it, creds-proxy is unknown; with the directory as --templates, the built-ins are gone.
    assert.equal(sidekick(['inject'], POD).status, 1);
    const replaced = sidekick(['inject', '--templates', ORDERING_TEMPLATES], POD);
    assert.equal(replaced.status, 1);
    assert.match(replaced.stderr, /creds-proxy\.yaml: spec\.requires: no template named 'vault-agent'/);
  });

  it('explain names the extra template’s place in the order', () => {
    const { status, stdout, stderr } = sidekick(['explain', '--extra-templates', ORDERING_TEMPLATES], POD);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /Pod shop\/web: inject vault-agent, creds-proxy, db-proxy in this start order/);
  });

  it('a name in both directories is exit 1 naming both files, for every command', () => {
    const message = `template 'db-proxy' is defined in both ${builtinProxy} and ${join(dup, 'proxy.yaml')}`;
    for (const args of [
      ['inject', '--extra-templates', dup],
      ['explain', '--extra-templates', dup],
      ['templates', 'list', '--extra-templates', dup],
      ['templates', 'validate', '--extra-templates', dup],
      ['version', '--extra-templates', dup],
    ]) {
      const run = sidekick(args, POD);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.ok(
        `${run.stdout}${run.stderr}`.includes(message),
        `${args.join(' ')}: ${run.stdout}${run.stderr}`,
      );
    }
    // The same file as --templates replaces the built-ins: no clash, and db-proxy is the user's.
    const replaced = sidekick(['templates', 'list', '--templates', dup]);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stdout, /^db-proxy: mine$/m);
    assert.doesNotMatch(replaced.stdout, /^log-shipper:/m);
  });

  it('templates list and validate show the merged set', () => {
    const list = sidekick(['templates', 'list', '--extra-templates', ORDERING_TEMPLATES]);
    assert.equal(list.status, 0, list.stderr);
    for (const name of ['db-proxy', 'log-shipper', 'vault-agent', 'creds-proxy', 'token-refresher'])
      assert.match(list.stdout, new RegExp(`^${name}: `, 'm'));
    assert.match(list.stdout, /^creds-proxy: .*\(requires vault-agent\)$/m);
    const validate = sidekick(['templates', 'validate', '--strict', '--extra-templates', ORDERING_TEMPLATES]);
    assert.equal(validate.status, 0, validate.stderr);
    assert.match(
      validate.stdout,
      new RegExp(`with ${ORDERING_TEMPLATES} added: \\d+ valid template\\(s\\): .*creds-proxy`),
    );
    const alone = sidekick(['templates', 'validate', ORDERING_TEMPLATES]);
    assert.equal(alone.status, 1, 'the directory alone replaces the built-ins and misses vault-agent');
  });

  it('version hashes the merged set', () => {
    const builtin = sidekick(['version']);
    const merged = sidekick(['version', '--extra-templates', ORDERING_TEMPLATES]);
    assert.equal(builtin.status, 0, builtin.stderr);
    assert.equal(merged.status, 0, merged.stderr);
    assert.match(merged.stdout, /creds-proxy, db-proxy, .*token-refresher/);
    assert.notEqual(hashOf(merged.stdout), hashOf(builtin.stdout));
    // The hash the server would report for the same directories, through templates list's loader.
    const again = sidekick(['version'], undefined, { SIDEKICK_EXTRA_TEMPLATES: ORDERING_TEMPLATES });
    assert.equal(hashOf(again.stdout), hashOf(merged.stdout));
  });

  it('says in --help which option replaces and which adds', () => {
    for (const command of ['inject', 'explain', 'serve', 'check', 'templates', 'version']) {
      const { stdout } = sidekick([command, '--help']);
      assert.match(
        stdout,
        /--templates VALUE +directory of SidecarTemplates that REPLACES the built-in ones/,
        command,
      );
      assert.match(
        stdout,
        /--extra-templates VALUE +directory of SidecarTemplates ADDED to the built-in ones \(or to --templates\).*\[SIDEKICK_EXTRA_TEMPLATES\]/,
        command,
      );
    }
  });
});
