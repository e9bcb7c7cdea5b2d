import type { Finding } from './analyze.js';

const HEADERS = ['CHECK', 'RESULT', 'OBJECT', 'DETAIL'] as const;

/** A kubectl-style table: columns padded to their widest cell, the detail last and unwrapped. */
export function table(findings: readonly Finding[]): string {
  const rows = findings.map((f) => [f.check, f.severity, f.object, f.detail]);
  const widths = HEADERS.slice(0, 3).map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i < 3 ? cell.padEnd((widths[i] ?? 0) + 2) : cell))
      .join('')
      .trimEnd();
  const problems = findings.filter((f) => f.severity === 'problem').length;
  const summary =
    problems === 0 ? 'no problems found' : `${String(problems)} problem${problems === 1 ? '' : 's'} found`;
  return `${[line(HEADERS), ...rows.map(line)].join('\n')}\n\n${summary}\n`;
}

export function json(findings: readonly Finding[]): string {
  const problems = findings.filter((f) => f.severity === 'problem').length;
  return `${JSON.stringify({ problems, findings }, null, 2)}\n`;
}
