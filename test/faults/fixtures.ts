// What every scenario shares: the load's shape, certificates, kubelet-style directories, and the
// check that nothing failed.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServingCertificate } from '../../src/certs/generate.js';
import { kubeletSwap } from '../support/kubelet-swap.js';
import { repoPath } from '../support/paths.js';
import { startLoad, summary, type Load, type LoadResult } from './load.js';
import { checkAnswer, reviewBody } from './review.js';

/** About what a busy cluster's apiservers send one webhook; bounded per scenario. */
export const RATE = 1000;
const CONNECTIONS = 16;
/** 20 new connections a second at 1,000 req/s. */
const FRESH_EVERY = 50;
/** The apiserver's default webhook timeout. */
const TIMEOUT_MS = 10_000;

const body = reviewBody();

export function load(port: number, ca: string, durationMs: number): Load {
  return startLoad({
    port,
    ca,
    rate: RATE,
    durationMs,
    connections: CONNECTIONS,
    freshEvery: FRESH_EVERY,
    timeoutMs: TIMEOUT_MS,
    body,
    check: checkAnswer,
  });
}

/** The scenario's counts go to the test's output whether or not it passes. */
export function report(name: string, result: LoadResult, diagnostic: (line: string) => void): void {
  diagnostic(summary(name, result));
}

export function assertNoFailures(result: LoadResult): void {
  assert.ok(result.sent >= RATE * 5, `only ${String(result.sent)} requests were sent`);
  assert.equal(
    result.failed,
    0,
    `${String(result.failed)} of ${String(result.sent)} admissions failed: ${JSON.stringify(result.failures)}\n` +
      result.examples.join('\n'),
  );
  assert.equal(result.ok, result.sent, 'every request was answered');
}

/** A mounted Secret (kubelet's ..data layout) holding tls.crt and tls.key. */
export async function secretDir(
  parent: string,
  name: string,
  cert: ServingCertificate,
): Promise<{ dir: string; certFile: string; keyFile: string }> {
  const dir = join(parent, name);
  await mkdir(dir);
  await kubeletSwap(dir, { 'tls.crt': cert.cert, 'tls.key': cert.key }, 'gen1');
  return { dir, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** The built-in templates, file name to text. */
export async function builtinTemplates(): Promise<Record<string, string>> {
  const dir = repoPath('templates');
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.yaml')).sort()) {
    files[name] = await readFile(join(dir, name), 'utf8');
  }
  return files;
}

/** `text` with `from` replaced by `to`, where `from` occurs exactly once. */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  assert.ok(at >= 0 && text.indexOf(from, at + 1) < 0, `expected exactly one ${JSON.stringify(from)}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
