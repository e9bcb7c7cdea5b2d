/**
 * Durations the way Go and Kubernetes users write them: `500ms`, `1s`, `2m`, `1h30m`, `1.5s`, `0`.
 * Returns milliseconds, or a message saying what is wrong.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

export function parseDuration(text: string): DurationResult {
  const input = text.trim();
  if (input === '0') return { ok: true, ms: 0 };
  if (input === '') return { ok: false, message: 'empty duration' };
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const start = PART.lastIndex;
    const match = PART.exec(input);
    if (!match) {
      return {
        ok: false,
        message: `invalid duration '${text}' at '${input.slice(start)}' (use e.g. 500ms, 1s, 2m, 1h30m)`,
      };
    }
    const [, amount = '', unit = ''] = match;
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  }
  if (!Number.isFinite(total)) return { ok: false, message: `duration '${text}' is too large` };
  return { ok: true, ms: Math.round(total) };
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}
