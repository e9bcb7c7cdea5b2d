import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateServingCertificate } from '../src/certs/generate.js';
import { ROOT, spawnOn } from './proc.js';

export type ServerName = 'raw' | 'express' | 'sidekick';

export const SERVER_NAMES: readonly ServerName[] = ['raw', 'express', 'sidekick'];

export const SERVER_LABELS: Record<ServerName, string> = {
  raw: 'raw floor (node:https + JSON.parse)',
  express: 'express floor (express.json)',
  sidekick: 'sidekick serve (full injection)',
};

export interface Tls {
  dir: string;
  certFile: string;
  keyFile: string;
  caFile: string;
  ca: string;
  remove: () => Promise<void>;
}

/** One CA and 127.0.0.1 certificate for every server: the same TLS work everywhere. */
export async function makeTls(): Promise<Tls> {
  const dir = await mkdtemp(join(tmpdir(), 'sidekick-bench-'));
  const cert = await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const files = {
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    caFile: join(dir, 'ca.crt'),
  };
  await writeFile(files.certFile, cert.cert);
  await writeFile(files.keyFile, cert.key, { mode: 0o600 });
  await writeFile(files.caFile, cert.ca.cert);
  return { dir, ...files, ca: cert.ca.cert, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface RunningServer {
  name: ServerName;
  pid: number;
  url: string;
  stop: () => Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function exitedEarly(child: ChildProcess, output: () => string): Promise<never> {
  return new Promise((_resolve, reject) => {
    child.once('exit', (code, signal) => {
      reject(new Error(`server exited during start (${signal ?? `code ${code}`}): ${output()}`));
    });
  });
}

/** Resolves with the port a floor prints (`listening <port>`). */
function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const match = /listening (\d+)/.exec(seen);
      if (match?.[1]) resolve(Number(match[1]));
    });
  });
}

async function readyz(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => {
      resolve(false);
    });
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function pollReady(url: string, ca: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await readyz(url, ca)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/readyz not ready after ${START_TIMEOUT_MS} ms`);
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: no answer after ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Starts one server in its own process, on `cpu` when given, and waits until it answers. sidekick
 * runs from `sidekickDist` (this checkout's dist/ unless another build is being compared).
 */
export async function startServer(
  name: ServerName,
  tls: Tls,
  cpu: string | undefined,
  sidekickDist = join(ROOT, 'dist'),
  nodeArgs: readonly string[] = [],
  logLevel = 'warn',
): Promise<RunningServer> {
  const tlsArgs = ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile];
  let child: ChildProcess;
  let port: Promise<number>;
  if (name === 'sidekick') {
    const chosen = await freePort();
    child = spawnOn(cpu, process.execPath, [
      ...nodeArgs,
      join(sidekickDist, 'src', 'main.js'),
      'serve',
      '--port',
      String(chosen),
      '--metrics-port',
      '0',
      '--log-level',
      logLevel,
      ...tlsArgs,
    ]);
    child.stdout?.resume();
    port = pollReady(`https://127.0.0.1:${chosen}`, tls.ca).then(() => chosen);
  } else {
    child = spawnOn(cpu, process.execPath, [
      ...nodeArgs,
      `dist/bench/floors/${name}.js`,
      '--port',
      '0',
      ...tlsArgs,
    ]);
    port = announcedPort(child);
  }
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const stop = stopper(child);
  try {
    const ready = await withTimeout(Promise.race([port, exitedEarly(child, () => stderr)]), `${name} start`);
    if (child.pid === undefined) throw new Error(`${name} has no pid`);
    return { name, pid: child.pid, url: `https://127.0.0.1:${ready}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
