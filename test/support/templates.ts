import { parseTemplateFiles, readTemplateFiles } from '../../src/templates/load.js';
import { mergeTemplateSources } from '../../src/templates/merge.js';
import type { TemplateSet } from '../../src/templates/types.js';
import { repoPath } from './paths.js';

const SECURE = `
    securityContext:
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      capabilities: { drop: [ALL] }
      seccompProfile: { type: RuntimeDefault }`;

export function template(name: string, spec: string): string {
  return `apiVersion: sidekick.dev/v1alpha1\nkind: SidecarTemplate\nmetadata: { name: ${name} }\nspec:\n${spec}`;
}

/** A small set of templates with every ordering feature, for unit tests. */
export const FIXTURE_FILES: Record<string, string> = {
  'a.yaml': template('a', `  description: plain\n  container:\n    image: img/a:1${SECURE}\n`),
  'b.yaml': template(
    'b',
    `  description: requires a\n  requires: [a]\n  container:\n    image: img/b:1${SECURE}\n`,
  ),
  'c.yaml': template(
    'c',
    `  description: after b\n  after: [b]\n  container:\n    image: img/c:1${SECURE}\n`,
  ),
  'p.yaml': template(
    'p',
    `  description: typed parameters
  exactlyOneOf: [[mode-a, mode-b]]
  parameters:
    text: { type: string, description: t, pattern: '[a-z]+', format: 'lowercase letters' }
    port: { type: integer, description: p, default: 80, minimum: 1, maximum: 65535 }
    flag: { type: boolean, description: f, default: false }
    wait: { type: duration, description: w, default: 1s }
    level: { type: enum, description: l, values: [HUP, TERM], default: HUP }
    names: { type: list, description: n, default: [], pattern: '[a-z]+' }
    need: { type: string, description: needed, required: true }
    mode-a: { type: string, description: a }
    mode-b: { type: string, description: b }
  container:
    image: img/p:1
    args: ['--text={{ text }}', '{{ port }}', { $when: flag, $value: --flag }, { $when: '!flag', $value: --no-flag }]
    env: [ { name: CFG, value: { $json: { need: '{{ need }}', port: '{{ port }}' } } } ]
    ports: [ { containerPort: '{{ port }}' } ]${SECURE}
`,
  ),
};

export function fixtureTemplates(extra: Record<string, string> = {}): TemplateSet {
  const files = Object.entries({ ...FIXTURE_FILES, ...extra }).map(([path, text]) => ({ path, text }));
  const load = parseTemplateFiles(files, 'fixtures');
  if (!load.ok) throw new Error(load.problems.join('\n'));
  return load.set;
}

/**
 * The templates of several directories as one set, each adding to the ones before it as
 * `--extra-templates` adds to the built-ins (the built-ins and test fixtures).
 */
export async function loadTemplateDirs(dirs: readonly string[]): Promise<TemplateSet> {
  const sources = await Promise.all(dirs.map(async (dir) => ({ dir, files: await readTemplateFiles(dir) })));
  const load = mergeTemplateSources(sources);
  if (!load.ok) throw new Error(`the templates do not load:\n${load.problems.join('\n')}`);
  return load.set;
}

/** Fixtures that add a chain of `requires` (token-refresher -> creds-proxy -> vault-agent). */
export const ORDERING_TEMPLATES = repoPath('test', 'fixtures', 'ordering-templates');
