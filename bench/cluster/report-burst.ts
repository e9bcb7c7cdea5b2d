import type { BurstRow } from './burst.js';

const counts = (record: Record<string, number>): string => {
  const entries = Object.entries(record);
  return entries.length === 0
    ? '0'
    : entries.map(([k, v]) => `${String(v)} (${k === '' ? '?' : k})`).join(', ');
};

/** The burst phase in markdown. */
export function burstTables(rows: readonly BurstRow[], kcmFlags: readonly string[]): string {
  const lines = [
    `kube-controller-manager with \`${kcmFlags.join(' ')}\`; two \`sidekick serve\` replicas behind a loopback TCP balancer (round-robin, a refused connection goes to the other replica).`,
    '',
    '| burst | Pods created | time to all | replica SIGKILLed at | Pod creates failed (HTTP code) | webhook call errors | FailedCreate events | webhook calls | connections per replica | failovers |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.failure ? 'one replica SIGKILLed' : 'no failure'} | ${String(r.created)} / ${String(r.replicas)} | ${String(r.secondsToAll)} s | ${r.killedAtSeconds === undefined ? '–' : `${String(r.killedAtSeconds)} s`} | ${counts(r.failedCreates)} | ${counts(r.webhookErrors)} | ${String(r.failedCreateEvents)} | ${String(r.webhookCalls)} | ${Object.values(r.balancer.connections).join(' / ')} | ${String(r.balancer.failovers)} |`,
    );
  }
  const calm = rows.find((r) => !r.failure);
  const lost = rows.find((r) => r.failure);
  if (calm && lost) {
    lines.push(
      '',
      `Time to all ${String(lost.replicas)} with a replica lost: ${String(Math.round((lost.secondsToAll / calm.secondsToAll) * 100) / 100)}× the burst without failure.`,
    );
  }
  const failure = rows.find((r) => r.firstFailure !== undefined)?.firstFailure;
  if (failure !== undefined) lines.push('', `First FailedCreate event: \`${failure.replaceAll('`', "'")}\``);
  return lines.join('\n');
}
