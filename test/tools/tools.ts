// kustomize and helm, the real ones, built from their Go modules by build.sh beside this file
// (cached in ~/.cache/sidekick/<tool>-<version>/) and run on deploy/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { isObject, type JsonObject } from '../../src/json.js';
import { repoPath } from '../support/paths.js';

/** v5.5.0 is the kustomize kubectl 1.32 bundles; v5.8.2 the newest that builds on Go 1.26. */
export const KUSTOMIZE_VERSIONS = ['v5.5.0', 'v5.8.2'] as const;
export type KustomizeVersion = (typeof KUSTOMIZE_VERSIONS)[number];
export const NEWEST_KUSTOMIZE: KustomizeVersion = 'v5.8.2';
export const HELM_VERSION = 'v4.3.2';
export const CHART = repoPath('deploy/helm/sidekick');

const built = new Map<string, string>();

/** The tool's binary, built on first use (minutes, cold); later runs find it in the cache. */
export function toolPath(tool: 'kustomize' | 'helm', version: string): string {
  const key = `${tool}@${version}`;
  let path = built.get(key);
  if (path === undefined) {
    path = execFileSync('bash', [repoPath('test/tools/build.sh'), tool, version], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    built.set(key, path);
  }
  return path;
}

/** The objects of a multi-document YAML stream, in order; `what` names it in errors. */
export function yamlObjects(text: string, what: string): JsonObject[] {
  const objects: JsonObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== 'string')
      throw new Error(`${what}: not a Kubernetes object`);
    objects.push(value);
  }
  return objects;
}

function run(binary: string, args: string[], what: string): string {
  try {
    return execFileSync(binary, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = isObject(error) && typeof error.stderr === 'string' ? error.stderr : String(error);
    throw new Error(`${what} failed:\n${stderr.slice(0, 4000)}`);
  }
}

/** `kustomize build DIR`: what `kubectl apply -k DIR` applies. */
export function kustomizeBuild(dir: string, version: string = NEWEST_KUSTOMIZE): JsonObject[] {
  const text = run(toolPath('kustomize', version), ['build', dir], `kustomize ${version} build ${dir}`);
  return yamlObjects(text, `kustomize ${version} build ${dir}`);
}

/** `helm template sidekick CHART --namespace sidekick` with the given `--set`/`-f` arguments. */
export function helmTemplate(args: string[] = [], chart: string = CHART): JsonObject[] {
  const full = ['template', 'sidekick', chart, '--namespace', 'sidekick', ...args];
  const text = run(toolPath('helm', HELM_VERSION), full, `helm ${full.join(' ')}`);
  return yamlObjects(text, `helm template ${args.join(' ')}`);
}

/**
 * `helm template` as kustomize writes it: `kustomize build` of a kustomization holding helm's
 * output as it is, so that the Go YAML parser kubectl and helm use reads it, as for a
 * kustomization (the yaml package reads the CEL expressions' folded scalars a little differently).
 */
export function helmTemplateThroughKustomize(args: string[] = []): JsonObject[] {
  const full = ['template', 'sidekick', CHART, '--namespace', 'sidekick', ...args];
  const text = run(toolPath('helm', HELM_VERSION), full, `helm ${full.join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'sidekick-normalise-'));
  try {
    writeFileSync(join(dir, 'chart.yaml'), text);
    writeFileSync(join(dir, 'kustomization.yaml'), stringify({ resources: ['chart.yaml'] }));
    return kustomizeBuild(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function helm(args: string[]): string {
  return run(toolPath('helm', HELM_VERSION), args, `helm ${args.join(' ')}`);
}

/** The cert-manager whose CRDs the cert-manager renderings are applied with. */
export const CERT_MANAGER_VERSION = 'v1.21.2';

/** cert-manager's CRDs (group cert-manager.io) from its Go module, by cert-manager-crds.sh. */
export function certManagerCrds(version: string = CERT_MANAGER_VERSION): JsonObject[] {
  const dir = execFileSync('bash', [repoPath('test/tools/cert-manager-crds.sh'), version], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => yamlObjects(readFileSync(join(dir, file), 'utf8'), `cert-manager ${version} ${file}`));
}
