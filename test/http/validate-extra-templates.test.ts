// POST /validate of the templates ConfigMap when the server loads two directories
// (--extra-templates): the ConfigMap may be mounted as either, so it is checked in place of each
// with the other added, and denied only when it would break the server in both places.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isObject, type JsonObject } from '../../src/json.js';
import { builtinTemplateDir, readTemplateFiles } from '../../src/templates/load.js';
import { startTestServer, tempDir, type TestServer } from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';
import { template } from '../support/templates.js';

const CONFIGMAP = { group: '', version: 'v1', kind: 'ConfigMap' };

const sidecar = (name: string, requires = ''): string =>
  template(
    name,
    `  description: ${name}\n${requires === '' ? '' : `  requires: [${requires}]\n`}  container: { image: registry.example/${name}:1 }\n`,
  );

describe('POST /validate: the templates ConfigMap beside --extra-templates', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };

  /** The answer to the ConfigMap with these files: allowed, or the denial's message. */
  async function check(uid: string, data: Record<string, string>): Promise<true | string> {
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sidekick-templates', namespace: 'sidekick' },
      data,
    };
    const body = JSON.stringify(admissionReview(uid, object, { kind: CONFIGMAP, namespace: 'sidekick' }));
    const res = await send(t.server.port, { ca: t.ca, path: '/validate', body, headers: JSON_HEADERS });
    assert.equal(res.status, 200);
    const review = JSON.parse(res.body) as JsonObject;
    assert.ok(isObject(review.response));
    if (review.response.allowed === true) return true;
    assert.ok(isObject(review.response.status));
    const { message } = review.response.status;
    assert.ok(typeof message === 'string');
    return message;
  }

  before(async () => {
    dir = await tempDir('validate-extra');
    // The extra directory's template requires a built-in one.
    await writeFile(join(dir.path, 'addon.yaml'), sidecar('addon', 'vault-agent'));
    t = await startTestServer({
      templatesDir: builtinTemplateDir(),
      extraTemplatesDir: dir.path,
      injectorNamespace: 'sidekick',
    });
    assert.deepEqual(t.server.templates()?.dirs, [builtinTemplateDir(), dir.path]);
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('accepts the built-in set as the base, the extra directory added', async () => {
    const files = await readTemplateFiles(builtinTemplateDir());
    const data = Object.fromEntries(files.map((f) => [f.path.slice(f.path.lastIndexOf('/') + 1), f.text]));
    assert.equal(await check('u-base', data), true);
  });

  it('accepts templates of its own that require a built-in, as the extra directory', async () => {
    // Alone, this ConfigMap names a template it does not have: only the merge admits it.
    assert.equal(await check('u-extra', { 'mine.yaml': sidecar('mine', 'vault-agent') }), true);
  });

  it('denies a set that is invalid in both places, naming both files of a clash', async () => {
    const message = await check('u-clash', {
      'proxy.yaml': sidecar('db-proxy'),
      'addon.yaml': sidecar('addon', 'vault-agent'),
    });
    // Closer to valid where the ConfigMap adds to the built-ins: there only db-proxy clashes.
    assert.equal(
      message,
      `ConfigMap sidekick/sidekick-templates: the sidecar templates are invalid (1 problem): template 'db-proxy' is defined in both ${join(builtinTemplateDir(), 'db-proxy.yaml')} and data[proxy.yaml]: a directory that adds templates cannot replace one`,
    );
    assert.match(String(await check('u-broken', { 'a.yaml': 'not: [valid' })), /data\[a\.yaml\]: YAML: /);
  });
});
