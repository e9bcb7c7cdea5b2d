import fc from 'fast-check';
import type { Json } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { PROPERTIES, runsFor, type PropertyDef } from './properties.js';
import { writeRegression, type Regression } from './regressions.js';
import { propertyOf, shares, type Tally } from './run.js';

export interface CampaignOptions {
  templates: TemplateSet;
  /** Total cases over all properties. */
  runs: number;
  /** Stop after this many seconds even if fewer cases ran. */
  seconds: number | undefined;
  seed: number;
  /** Cases per round over all properties: each round uses fresh seeds. */
  round: number;
  /** Only properties whose names contain this text. */
  filter: string | undefined;
  regressionDir: string | undefined;
  log: (line: string) => void;
  /** Asked between chunks: true ends the campaign early (e.g. after Ctrl-C). */
  stop?: () => boolean;
}

export interface CampaignResult {
  runs: number;
  seconds: number;
  failures: { property: string; file: string }[];
  tallies: Map<string, Tally>;
}

/** A different, reproducible seed for every round and property. */
function seedFor(seed: number, round: number, index: number): number {
  return (seed + Math.imul(round, 0x9e3779b1) + Math.imul(index, 0x85ebca6b)) | 0;
}

function errorText(details: fc.RunDetails<[Json]>): string {
  const error = details.errorInstance;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function keep(
  def: PropertyDef,
  details: fc.RunDetails<[Json]>,
  dir: string | undefined,
): Promise<string> {
  const regression: Regression = {
    property: def.name,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    error: errorText(details),
    foundAt: new Date().toISOString(),
    counterexample: details.counterexample?.[0] ?? null,
  };
  return writeRegression(regression, dir);
}

/**
 * Runs the properties in rounds with fresh seeds until `runs` cases or `seconds` have passed.
 * A property that fails is shrunk, written to the regressions directory and left out of the
 * rounds that follow (it would only find the same bug again).
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  const active = PROPERTIES.filter((p) => options.filter === undefined || p.name.includes(options.filter));
  const tallies = new Map<string, Tally>(active.map((p) => [p.name, new Map()]));
  const failures: CampaignResult['failures'] = [];
  let runs = 0;
  let lastLog = started;
  const going = (): boolean => runs < options.runs && Date.now() < deadline && options.stop?.() !== true;
  for (let round = 0; going() && active.length > 0; round++) {
    for (const def of [...active]) {
      // Between chunks, let signals and timers in: the checks themselves are synchronous.
      await new Promise((resolve) => setImmediate(resolve));
      const remaining = deadline - Date.now();
      if (runs >= options.runs || remaining <= 0 || options.stop?.() === true) break;
      const tally = tallies.get(def.name) ?? new Map<string, number>();
      const numRuns = Math.min(runsFor(def, options.round), options.runs - runs);
      const seed = seedFor(options.seed, round, PROPERTIES.indexOf(def));
      const details = fc.check(propertyOf(def, options.templates, tally), {
        seed,
        numRuns,
        ...(remaining === Infinity ? {} : { interruptAfterTimeLimit: Math.max(1, Math.floor(remaining)) }),
      });
      runs += details.numRuns;
      if (details.failed) {
        const file = await keep(def, details, options.regressionDir);
        failures.push({ property: def.name, file });
        options.log(
          `FAILED ${def.name} (seed ${details.seed}, path ${details.counterexamplePath ?? ''}): kept in ${file}`,
        );
        options.log(errorText(details).split('\n').slice(0, 3).join('\n'));
        active.splice(active.indexOf(def), 1);
      }
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        const elapsed = (Date.now() - started) / 1000;
        options.log(
          `${runs} cases in ${elapsed.toFixed(0)} s (${(runs / Math.max(elapsed, 0.001)).toFixed(0)}/s), round ${round}`,
        );
      }
    }
  }
  return { runs, seconds: (Date.now() - started) / 1000, failures, tallies };
}

export function summary(result: CampaignResult): string[] {
  return [...result.tallies.entries()].map(([name, tally]) => `${name}: ${shares(tally)}`);
}
