// node dist/bench/profile-summary.js <file.cpuprofile | directory> [rows]
// The functions a V8 CPU profile (node --cpu-prof) spends its time in: self time (native work such
// as JSON.parse or structuredClone counts for the JS function that called it) and inclusive time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObject } from '../src/json.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isProfile(value: unknown): value is Profile {
  return (
    isObject(value) &&
    Array.isArray(value.nodes) &&
    Array.isArray(value.samples) &&
    Array.isArray(value.timeDeltas)
  );
}

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => join(path, name));
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

export function summarizeProfile(profile: Profile, rows: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const timeById = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    timeById.set(id, (timeById.get(id) ?? 0) + delta);
    total += delta;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of timeById) {
    const node = byId.get(id);
    if (!node) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + time);
    // A recursive function counts once per sample in its inclusive time.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || seen.has(label(frame))) continue;
      seen.add(label(frame));
      inclusive.set(label(frame), (inclusive.get(label(frame)) ?? 0) + time);
    }
  }
  const top = (map: Map<string, number>): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, rows)
      .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)} %  ${name}`);
  return [
    `${(total / 1e6).toFixed(1)} s sampled`,
    'self:',
    ...top(self),
    'inclusive:',
    ...top(inclusive),
  ].join('\n');
}

const [path, rows = '25'] = process.argv.slice(2);
if (path === undefined) {
  process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile | directory> [rows]\n');
  process.exit(2);
}
for (const file of files(path)) {
  const profile: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isProfile(profile)) throw new Error(`${file} is not a V8 CPU profile`);
  process.stdout.write(`== ${file}\n${summarizeProfile(profile, Number(rows))}\n`);
}
