// The long property campaign (issue 6): the properties of test/property, many more cases, a
// random seed. Every counterexample is shrunk and kept in test/property/regressions/, which
// the property suite replays on every `npm test`. Needs `npm run build` first (npm run fuzz does).
//
//   node scripts/fuzz.mjs [--runs N] [--minutes M] [--seed S] [--round N] [--property TEXT] [--out DIR]
//
// --runs      total cases over all properties (default 10000000, or SIDEKICK_FUZZ_RUNS)
// --minutes   stop after this long even if fewer cases ran
// --seed      the campaign's seed (default random, or SIDEKICK_FUZZ_SEED); printed either way
// --round     cases per round over all properties; each round draws fresh seeds (default 20000)
// --property  only the properties whose names contain TEXT
// --out       where to keep counterexamples (default test/property/regressions)
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    minutes: { type: 'string' },
    seed: { type: 'string' },
    round: { type: 'string' },
    property: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(
    'usage: node scripts/fuzz.mjs [--runs N] [--minutes M] [--seed S] [--round N] [--property TEXT] [--out DIR]',
  );
  process.exit(0);
}

function number(name, text, fallback, { min, integer = true }) {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value)) || value < min) {
    console.error(
      `fuzz: --${name} ${text}: expected ${integer ? 'an integer' : 'a number'} of at least ${min}`,
    );
    process.exit(2);
  }
  return value;
}

const runs = number('runs', values.runs ?? process.env.SIDEKICK_FUZZ_RUNS, 10_000_000, { min: 1 });
const minutes = number('minutes', values.minutes, undefined, { min: 0, integer: false });
const seed = number(
  'seed',
  values.seed ?? process.env.SIDEKICK_FUZZ_SEED,
  randomInt(-(2 ** 31), 2 ** 31 - 1),
  {
    min: -(2 ** 31),
  },
);
const round = number('round', values.round, 20_000, { min: 1 });

const dist = new URL('../dist/test/property/support/', import.meta.url);
let campaign;
let templates;
try {
  campaign = await import(new URL('campaign.js', dist).href);
  templates = await (await import(new URL('templates.js', dist).href)).builtinTemplates();
} catch (error) {
  console.error(`fuzz: cannot load the compiled properties (run npm run build first): ${error.message}`);
  process.exit(2);
}

console.log(
  `fuzz: seed ${seed}, up to ${runs} cases${minutes === undefined ? '' : ` or ${minutes} min`}, rounds of ${round}` +
    (values.property ? `, properties matching "${values.property}"` : ''),
);
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log('fuzz: interrupted: stopping after the current chunk (Ctrl-C again stops at once)');
});

const result = await campaign.runCampaign({
  templates,
  runs,
  seconds: minutes === undefined ? undefined : minutes * 60,
  seed,
  round,
  filter: values.property,
  regressionDir: values.out === undefined ? undefined : resolve(values.out),
  log: (line) => console.log(`fuzz: ${line}`),
  stop: () => stopping,
});

console.log(`fuzz: ${result.runs} cases in ${result.seconds.toFixed(0)} s (seed ${seed})`);
for (const line of campaign.summary(result)) console.log(`fuzz:   ${line}`);
if (result.failures.length > 0) {
  console.log(`fuzz: ${result.failures.length} counterexample(s) kept, replayed by npm test from now on:`);
  for (const f of result.failures) console.log(`fuzz:   ${f.file} (${f.property})`);
  process.exit(1);
}
console.log('fuzz: no counterexample');
