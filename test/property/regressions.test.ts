// Counterexamples kept by `npm run fuzz` (and by hand, for bugs found while writing the
// properties), replayed as plain cases on every run: they do not depend on the generators.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { TemplateSet } from '../../src/templates/types.js';
import { findProperty } from './support/properties.js';
import { readRegressions } from './support/regressions.js';
import { propertyTemplates } from './support/templates.js';

let templates: TemplateSet;

before(async () => {
  templates = await propertyTemplates();
});

const kept = readRegressions();

describe('kept counterexamples', () => {
  it('every kept case names a property that exists', () => {
    const unknown = kept.filter((k) => !findProperty(k.regression.property)).map((k) => k.file);
    assert.deepEqual(unknown, []);
  });

  for (const { file, regression } of kept) {
    it(`${file} (${regression.property})`, () => {
      const def = findProperty(regression.property);
      assert.ok(def, `no property named ${regression.property}`);
      def.check(templates, regression.counterexample);
    });
  }
});
