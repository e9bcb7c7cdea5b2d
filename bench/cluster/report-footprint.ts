import { median, round } from '../stats.js';
import type { FootprintResults } from './footprint.js';

const MiB = 2 ** 20;
const mib = (bytes: number): string => `${String(round(bytes / MiB))} MiB`;

/** The footprint phase in markdown. */
export function footprintTables(f: FootprintResults): string {
  const stages = f.stages.filter((s) => s.pods > 0);
  const rows = Object.keys(stages[0]?.perPod ?? {});
  const lines = [
    `Each Pod: the suite's \`reload-app\` stand-in and config-watcher in URL mode, one ConfigMap volume; kubelet syncFrequency ${f.syncFrequency}. Per Pod: min / median / max over the Pods of the stage.`,
    '',
    `| per Pod with config-watcher | ${stages.map((s) => `${String(s.pods)} Pod${s.pods === 1 ? '' : 's'}`).join(' | ')} |`,
    `| --- | ${stages.map(() => '---').join(' | ')} |`,
  ];
  for (const name of rows) {
    lines.push(
      `| ${name} | ${stages.map((s) => (s.perPod[name] ?? []).map(String).join(' / ') + ' MiB').join(' | ')} |`,
    );
  }
  const ms = (v: [number, number, number]): string => `${v.map(String).join(' / ')} ms`;
  lines.push(
    `| watcher process created → first scan complete (/ready), in the Pod | ${stages.map((s) => ms(s.readyMs)).join(' | ')} |`,
    `| watcher's Node started → first scan complete (Node's own clock), in the Pod | ${stages.map((s) => ms(s.nodeReadyMs)).join(' | ')} |`,
    `| watcher CPU used since start (cpuacct) | ${stages.map((s) => ms(s.cpuUsedMs)).join(' | ')} |`,
    `| watcher throttled by its CPU limit (cpu.stat) | ${stages.map((s) => ms(s.throttledMs)).join(' | ')} |`,
  );
  lines.push(
    `| a Pod of the same app without config-watcher: cgroup usage / working set (Summary API) | ${mib(f.control.pod.usage)} / ${mib(f.control.summaryPodWorkingSet)} | | |`,
    '',
    '| node, Pods with config-watcher | kubepods usage | kubepods working set | shims RSS | containerd RSS | kubelet RSS | total |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of f.stages) {
    const n = s.node;
    lines.push(
      `| ${String(s.pods)} | ${mib(n.kubepods.usage)} | ${mib(n.kubepods.workingSet)} | ${mib(n.shimsRss)} | ${mib(n.containerdRss)} | ${mib(n.kubeletRss)} | ${mib(n.total)} |`,
    );
  }
  lines.push(
    '',
    '| added Pods | node growth per Pod (total) | of it kubepods | of it shims |',
    '| --- | --- | --- | --- |',
  );
  for (const g of f.growthPerPod) {
    lines.push(
      `| ${String(g.from)} → ${String(g.to)} | ${String(g.totalMiB)} MiB | ${String(g.kubepodsMiB)} MiB | ${String(g.shimsMiB)} MiB |`,
    );
  }
  const c = f.churn;
  lines.push(
    '',
    `Changes: ${String(c.changes)} writes of the watched ConfigMap volume in ${String(c.seconds)} s, made the way kubelet's AtomicWriter makes them (new timestamped directory, \`..data\` symlink swapped), by the benchmark on the node, faster than kubelet would (it also rewrites the API's content at its own syncs, which the watcher sees as more changes); debounce 20 ms; ${String(c.notifications)} reloads reached the app.`,
    '',
    '| watcher process | idle | after the changes | growth |',
    '| --- | --- | --- | --- |',
    `| private (Private_Clean + Private_Dirty) | ${mib(c.idle.private)} | ${mib(c.after.private)} | ${mib(c.after.private - c.idle.private)} |`,
    `| anonymous | ${mib(c.idle.anonymous)} | ${mib(c.after.anonymous)} | ${mib(c.after.anonymous - c.idle.anonymous)} |`,
    `| RSS | ${mib(c.idle.rss)} | ${mib(c.after.rss)} | ${mib(c.after.rss - c.idle.rss)} |`,
    `| PSS | ${mib(c.idle.pss)} | ${mib(c.after.pss)} | ${mib(c.after.pss - c.idle.pss)} |`,
    `| container cgroup usage | ${mib(c.idleCgroup.usage)} | ${mib(c.afterCgroup.usage)} | ${mib(c.afterCgroup.usage - c.idleCgroup.usage)} |`,
    `| container working set | ${mib(c.idleCgroup.workingSet)} | ${mib(c.afterCgroup.workingSet)} | ${mib(c.afterCgroup.workingSet - c.idleCgroup.workingSet)} |`,
    '',
    `Private memory along the way: ${c.samples.map((x) => `${String(x.changes)}: ${mib(x.memory.private)}`).join(', ')}.`,
    '',
    `CPU: ${String(c.cpuMsPerChange)} ms per change (the watcher's utime + stime over the changes, divided by them); idle ${String(c.idleCpuMsPerMinute)} ms a minute.`,
    '',
    '| `sidekick watch`: spawn → first 200 from /ready | runs | median | max |',
    '| --- | --- | --- | --- |',
  );
  for (const [node, times] of Object.entries(f.readyMs)) {
    lines.push(
      `| ${node} | ${String(times.length)} | ${String(round(median(times)))} ms | ${String(round(Math.max(...times)))} ms |`,
    );
  }
  lines.push(
    '',
    `Image ${f.imageReference}: ${mib(f.imageBytes)} (the uncompressed archive). Template resources at the run: \`${JSON.stringify(f.template)}\`.`,
  );
  return lines.join('\n');
}
