// Property-based tests of the injection core and the admission handler (issue 6). The seed is
// fixed so that CI reproduces; SIDEKICK_FUZZ_SEED and SIDEKICK_FUZZ_RUNS override it and the
// total number of cases. `npm run fuzz` runs the same properties for much longer.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TemplateSet } from '../../src/templates/types.js';
import { runConfig } from './support/config.js';
import { PROPERTIES, runsFor } from './support/properties.js';
import { missingShares, propertyOf, shares, type Tally } from './support/run.js';
import { propertyTemplates } from './support/templates.js';

const config = runConfig();
let templates: TemplateSet;

before(async () => {
  templates = await propertyTemplates();
});

describe(`properties (seed ${config.seed}, ${config.totalRuns} cases in all, from ${config.source})`, () => {
  for (const def of PROPERTIES) {
    const numRuns = runsFor(def, config.totalRuns);
    it(`${def.name} [${numRuns} cases]`, (t) => {
      t.diagnostic(`rerun with SIDEKICK_FUZZ_SEED=${config.seed} SIDEKICK_FUZZ_RUNS=${config.totalRuns}`);
      const tally: Tally = new Map();
      const started = performance.now();
      fc.assert(propertyOf(def, templates, tally), {
        seed: config.seed,
        numRuns,
        includeErrorInReport: true,
      });
      t.diagnostic(`${numRuns} cases in ${(performance.now() - started).toFixed(0)} ms: ${shares(tally)}`);
      assert.deepEqual(
        missingShares(def, tally),
        [],
        'the generators no longer reach these cases often enough',
      );
    });
  }
});
