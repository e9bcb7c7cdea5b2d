/** The CI run: fixed, so that a failure reproduces; the environment overrides both. */
export const DEFAULT_SEED = 20_240_611;
export const DEFAULT_TOTAL_RUNS = 100_000;

export interface RunConfig {
  seed: number;
  totalRuns: number;
  /** Where the values came from, for the log line that lets anyone rerun the same cases. */
  source: string;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new Error(`${name}=${raw}: not an integer`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name}=${raw}: must be an integer of at least ${min}`);
  return value;
}

/** SIDEKICK_FUZZ_SEED (any 32-bit integer) and SIDEKICK_FUZZ_RUNS (total cases over all properties). */
export function runConfig(env: NodeJS.ProcessEnv = process.env): RunConfig {
  const seed = integer(env, 'SIDEKICK_FUZZ_SEED', DEFAULT_SEED, -(2 ** 31));
  if (seed >= 2 ** 31) throw new Error(`SIDEKICK_FUZZ_SEED=${seed}: must fit in 32 bits`);
  const totalRuns = integer(env, 'SIDEKICK_FUZZ_RUNS', DEFAULT_TOTAL_RUNS, 1);
  const source = env.SIDEKICK_FUZZ_SEED || env.SIDEKICK_FUZZ_RUNS ? 'environment' : 'defaults';
  return { seed, totalRuns, source };
}
