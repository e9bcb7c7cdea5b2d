import type { ObjectReport } from './documents.js';

/** What `sidekick explain` prints for one object. */
export function explainReport(report: ObjectReport): string {
  const { outcome } = report;
  const lines: string[] = [];
  switch (outcome.decision) {
    case 'pass':
    case 'skip':
      lines.push(`${report.object}: skipped: ${outcome.reason}`);
      break;
    case 'refuse':
      lines.push(`${report.object}: refused: ${outcome.message}`);
      break;
    case 'inject': {
      const change = outcome.patch.length === 0 ? ' (already injected, nothing to change)' : '';
      lines.push(`${report.object}: inject ${outcome.sidecars.join(', ')} in this start order${change}`);
      outcome.plan.forEach((p, i) => {
        const once = p.runOnce ? '; runs once to completion (a plain init container, not a sidecar)' : '';
        lines.push(`  ${i + 1}. ${p.name}: ${p.reason}; starts ${p.position}${once}`);
        for (const [name, param] of Object.entries(p.parameters)) {
          lines.push(`       ${name} = ${JSON.stringify(param.value)} (${param.source})`);
        }
      });
      break;
    }
  }
  for (const warning of outcome.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}
