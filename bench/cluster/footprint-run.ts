import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../proc.js';
import type { FootprintResults } from './footprint.js';

/** Another run of the node machinery on this machine (only one kubelet may run at a time). */
function otherNodeRuns(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (/test\/node\/(run|enter)\.sh/.test(cmdline)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * The footprint phase runs inside the node suite's namespaces: test/node/run.sh builds what it
 * needs, starts the cluster, runs footprint-main.js in place of the suite, and tears it all down.
 * It waits while another node run holds the machine (up to 30 minutes).
 */
export async function runFootprint(counts: number[], changes: number): Promise<FootprintResults> {
  const deadline = Date.now() + 30 * 60_000;
  for (let others = otherNodeRuns(); others.length > 0; others = otherNodeRuns()) {
    if (Date.now() > deadline)
      throw new Error(`another node run (pids ${others.join(', ')}) kept the machine for 30 min`);
    process.stderr.write(`footprint: waiting for another node run (pids ${others.join(', ')})\n`);
    await sleep(20_000);
  }
  const out = join(ROOT, 'bench', 'footprint-results.json');
  rmSync(out, { force: true });
  const child = spawn(
    'bash',
    [
      join(ROOT, 'test/node/run.sh'),
      process.execPath,
      'dist/bench/cluster/footprint-main.js',
      out,
      counts.join(','),
      String(changes),
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the node phase failed (exit ${String(code)})`);
  return JSON.parse(readFileSync(out, 'utf8')) as FootprintResults;
}
