// The injected Pod shares every part injection does not change with the input (copying the whole
// Pod was a third of the cost of a large one), so injection must never write to its input: deep-
// frozen, any write throws in strict-mode modules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { injectPod } from '../../src/inject/pipeline.js';
import { getPath, podTemplatePath } from '../../src/inject/workloads.js';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { loadTemplateDir } from '../../src/templates/load.js';
import { repoPath } from '../support/paths.js';

function freeze<T extends Json>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Array.isArray(value) ? value : Object.values(value)) freeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('injectPod never writes to its input', async () => {
  const load = await loadTemplateDir(repoPath('templates'));
  assert.ok(load.ok);
  const dir = repoPath('test', 'golden', 'cases');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  for (const file of files) {
    it(file, () => {
      for (const doc of parseAllDocuments(readFileSync(`${dir}/${file}`, 'utf8'))) {
        const object = doc.toJS() as Json;
        if (!isObject(object)) continue;
        const path = podTemplatePath(object);
        const pod: JsonObject | undefined = path ? getPath(object, path) : undefined;
        if (!pod) continue;
        const before = JSON.stringify(pod);
        const outcome = injectPod(freeze(pod), { templates: load.set, namespace: 'team-a' });
        assert.notEqual(outcome.decision, undefined);
        assert.equal(JSON.stringify(pod), before);
      }
    });
  }
});
