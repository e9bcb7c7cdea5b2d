import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { isObject, type Json } from '../../../src/json.js';
import { repoPath } from '../../support/paths.js';

export const REGRESSION_DIR = repoPath('test', 'property', 'regressions');

/** A counterexample kept as a file and replayed by every run of the property suite. */
export interface Regression {
  property: string;
  /** The run that found it: `SIDEKICK_FUZZ_SEED` plus fast-check's path within that run. */
  seed: number;
  path: string;
  error: string;
  foundAt: string;
  /** The shrunk case, replayed as it is (it does not depend on the generators staying the same). */
  counterexample: Json;
}

export function parseRegression(text: string, file: string): Regression {
  const value: unknown = JSON.parse(text);
  const fail = (what: string): Error => new Error(`${file}: ${what}`);
  if (!isObject(value)) throw fail('not a JSON object');
  const { property, seed, path, error, foundAt } = value;
  if (typeof property !== 'string' || property === '') throw fail('property must be a property name');
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw fail('seed must be an integer');
  if (typeof path !== 'string') throw fail('path must be a string');
  if (typeof error !== 'string') throw fail('error must be a string');
  if (typeof foundAt !== 'string') throw fail('foundAt must be a string');
  if (!Object.prototype.hasOwnProperty.call(value, 'counterexample')) throw fail('counterexample is missing');
  return { property, seed, path, error, foundAt, counterexample: value.counterexample ?? null };
}

export function readRegressions(dir = REGRESSION_DIR): { file: string; regression: Regression }[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => ({
    file,
    regression: parseRegression(readFileSync(join(dir, file), 'utf8'), file),
  }));
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}

/**
 * Writes the regression as `<timestamp>-<property>.json`, formatted as `npm run lint` wants it;
 * returns the file's path.
 */
export async function writeRegression(regression: Regression, dir = REGRESSION_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const stamp = regression.foundAt.replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}-${slug(regression.property)}.json`);
  const options = (await prettier.resolveConfig(file)) ?? {};
  const text = await prettier.format(JSON.stringify(regression, null, 2), { ...options, parser: 'json' });
  writeFileSync(file, text, { flag: 'wx' });
  return file;
}
