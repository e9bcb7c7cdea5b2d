// npm run bench:cluster: what a cluster feels of sidekick. Pods created through a real apiserver
// with and without the webhook in their path, a Deployment's burst while one of two replicas is
// SIGKILLed, and config-watcher's footprint on a real node. Results in bench/cluster-results.json
// and as markdown tables on stdout.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { E2eEnvironment } from '../../test/e2e/harness/environment.js';
import { vegetaBinary } from '../open-loop.js';
import { load1, ROOT } from '../proc.js';
import { createPhase, type CreateRow } from './create.js';
import { createTables } from './report-create.js';
import { burstPhase, type BurstRow } from './burst.js';
import { burstTables } from './report-burst.js';
import { runFootprint } from './footprint-run.js';
import type { FootprintResults } from './footprint.js';
import { footprintTables } from './report-footprint.js';

const PHASES = ['create', 'burst', 'footprint'] as const;
type Phase = (typeof PHASES)[number];

interface ClusterResults {
  measuredAt: string;
  commit: string;
  command: string;
  node: string;
  cpus: number;
  create?: CreateRow[];
  burst?: BurstRow[];
  footprint?: FootprintResults;
  controllerManagerFlags: string[];
}

/**
 * kube-controller-manager's client allows 20 requests a second by default (burst 30), which would
 * make a 1,000-Pod burst take 50 s whatever the webhook does; many clusters raise it. The burst
 * runs with a limit the apiserver, not the controller's client, is likely to reach first.
 */
const KCM_FLAGS = ['--kube-api-qps=200', '--kube-api-burst=400'];

/** No phase needs the loopback control plane. */
class Skip extends Error {}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', 'test', 'templates'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      phases: { type: 'string' },
      quick: { type: 'boolean', default: false },
      rates: { type: 'string' },
      segments: { type: 'string' },
      'segment-seconds': { type: 'string' },
      'burst-replicas': { type: 'string' },
    },
  });
  const phases = (values.phases?.split(',') ?? [...PHASES]) as Phase[];
  for (const phase of phases) if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}`);
  const results: ClusterResults = {
    measuredAt: new Date().toISOString(),
    commit: commit(),
    command: `npm run bench:cluster${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    controllerManagerFlags: KCM_FLAGS,
  };
  const vegeta = vegetaBinary();
  if ('problem' in vegeta) throw new Error(vegeta.problem);
  const env = new E2eEnvironment({
    controllerManagerFlags: KCM_FLAGS,
    // Deleting the Pods between segments (thousands of them) with more than the one default worker.
    apiserverFlags: () => Promise.resolve({ 'delete-collection-workers': '4' }),
  });
  try {
    if (!phases.includes('create') && !phases.includes('burst')) throw new Skip();
    await env.setUp();
    if (phases.includes('create')) {
      results.create = await createPhase(env, {
        vegeta: vegeta.path,
        rates: (values.rates ?? '50,200,0').split(',').map(Number),
        segments: Number(values.segments ?? (values.quick ? 1 : 2)),
        segmentSeconds: Number(values['segment-seconds'] ?? (values.quick ? 5 : 15)),
        saturatedWorkers: 16,
      });
    }
    if (phases.includes('burst')) {
      const replicas = Number(values['burst-replicas'] ?? (values.quick ? 200 : 1000));
      results.burst = await burstPhase(env, { replicas, killAt: Math.round(replicas * 0.3) });
    }
  } catch (error) {
    if (!(error instanceof Skip)) {
      process.stderr.write(`\n--- logs:\n${(env.cp as typeof env.cp | undefined)?.logTails(30) ?? ''}\n`);
      throw error;
    }
  } finally {
    await env.tearDown();
  }
  // The node phase starts a cluster of its own, with a kubelet, once the one above is gone.
  if (phases.includes('footprint'))
    results.footprint = await runFootprint(values.quick ? [1, 3] : [1, 10, 50], values.quick ? 100 : 1000);
  const path = join(ROOT, 'bench', 'cluster-results.json');
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${markdown(results)}\n`);
  process.stderr.write(`results in ${path}; load average at the end ${String(load1())}\n`);
}

function markdown(results: ClusterResults): string {
  const parts = [
    `Measured ${results.measuredAt} at ${results.commit} with \`${results.command}\`: Node ${results.node}, ${String(results.cpus)} CPUs, nothing pinned.`,
  ];
  if (results.create) parts.push('### Pod creation through the apiserver', '', createTables(results.create));
  if (results.burst)
    parts.push(
      '### A burst with a replica lost',
      '',
      burstTables(results.burst, results.controllerManagerFlags),
    );
  if (results.footprint)
    parts.push('### config-watcher on a real node', '', footprintTables(results.footprint));
  return parts.join('\n\n');
}

export function readResults(): ClusterResults {
  return JSON.parse(readFileSync(join(ROOT, 'bench', 'cluster-results.json'), 'utf8')) as ClusterResults;
}

await main();
