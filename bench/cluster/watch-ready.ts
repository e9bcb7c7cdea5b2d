import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/e2e/harness/ports.js';
import { ROOT } from '../proc.js';

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 200 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => {
      resolve(0);
    });
    req.on('timeout', () => {
      req.destroy();
    });
    req.end();
  });
}

async function untilReady(port: number, child: ChildProcess, started: number): Promise<void> {
  for (;;) {
    if ((await status(port, '/ready')) === 200) return;
    if (child.exitCode !== null) throw new Error(`sidekick watch exited with ${String(child.exitCode)}`);
    if (performance.now() - started > 10_000) throw new Error('sidekick watch not ready in 10 s');
    await sleep(2);
  }
}

/**
 * `sidekick watch` started with `node` and asked for /ready every 2 ms: the milliseconds from
 * spawn to the first 200, `runs` times (median and max reported). The process is stopped by PID.
 */
export async function timeToReady(node: string, runs: number): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sidekick-watch-ready-'));
  await writeFile(join(dir, 'config.txt'), 'version=1\n');
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      const started = performance.now();
      const child = spawn(
        node,
        [
          join(ROOT, 'dist/src/main.js'),
          'watch',
          `--dir=${dir}`,
          '--url=http://127.0.0.1:9/-/reload',
          `--health-port=${String(port)}`,
        ],
        { stdio: 'ignore' },
      );
      try {
        await untilReady(port, child, started);
        times.push(performance.now() - started);
      } finally {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return times;
}
