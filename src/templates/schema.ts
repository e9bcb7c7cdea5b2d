import { createHash } from 'node:crypto';
import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { parseCondition } from './condition.js';
import {
  BUILTIN_AFTER,
  BUILTIN_CONTAINERS,
  DNS_LABEL,
  ITEM_PARTS,
  PARAMETER_NAME,
  PLACEHOLDER,
  URL_PARTS,
} from './names.js';
import { parseParameterSpec } from './parameter-spec.js';
import { checkTemplateResources, parseResourceBounds, resourceParameters } from './resource-bounds.js';
import type {
  AppMount,
  ParameterSpec,
  PodVolumeMounts,
  SidecarTemplate,
  VolumeReplacement,
  WatchableVolume,
} from './types.js';

const SPEC_FIELDS = new Set([
  'description',
  'requires',
  'after',
  'exactlyOneOf',
  'shareProcessNamespace',
  'runOnce',
  'parameters',
  'container',
  'volumes',
  'appMounts',
  'watchable',
  'podVolumeMounts',
  'resourceBounds',
]);

/** core/v1 Container fields a template may set (`name` and `restartPolicy` are sidekick's). */
const CONTAINER_FIELDS = new Set([
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
]);

export class Problems {
  readonly list: string[] = [];
  constructor(readonly source: string) {}
  add(field: string, problem: string): void {
    this.list.push(`${this.source}: ${field}: ${problem}`);
  }
}

function stringList(value: Json | undefined, field: string, problems: Problems): string[] {
  if (value === undefined) return [];
  if (!isArray(value) || !value.every((v) => typeof v === 'string')) {
    problems.add(field, 'must be a list of template names');
    return [];
  }
  return value;
}

function checkFields(object: JsonObject, allowed: Set<string>, field: string, problems: Problems): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) problems.add(`${field}.${key}`, 'unknown field');
  }
}

interface Reference {
  name: string;
  path: string;
  /** What is wrong with the reference itself, apart from the name. */
  problem?: string;
  /** A `$each`, which must name a list parameter. */
  each?: true;
  /** The part of an item or URL, `{{ name.part }}`. */
  part?: string;
}

function conditionReferences(value: Json, path: string, out: Reference[], scope: ReadonlySet<string>): void {
  const list = isArray(value) ? value : [value];
  if (list.length === 0) out.push({ name: '', path, problem: 'is an empty list of conditions' });
  for (const item of list) {
    const condition = typeof item === 'string' ? parseCondition(item) : undefined;
    if (condition) {
      const { param: name, part } = condition;
      const problem = placeholderProblem(name, part, scope);
      out.push({ name, path, ...(problem ? { problem } : {}), ...(part ? { part } : {}) });
    } else
      out.push({
        name: '',
        path,
        problem: `${JSON.stringify(item)} is not name, name=value or name^=prefix (each may start with !)`,
      });
  }
}

function placeholderProblem(
  name: string,
  part: string | undefined,
  scope: ReadonlySet<string>,
): string | undefined {
  if (part === undefined || URL_PARTS.includes(part)) return undefined;
  if (!ITEM_PARTS.includes(part))
    return `.${part} is not one of .${[...URL_PARTS, ...ITEM_PARTS].join(', .')}`;
  return scope.has(name) ? undefined : `.${part} is only known inside $each: ${name}`;
}

/** Every `{{ name }}`, `$when` and `$each` in a tree, with where it stands. */
function references(
  tree: Json,
  path: string,
  out: Reference[],
  scope: ReadonlySet<string> = new Set(),
): void {
  if (typeof tree === 'string') {
    for (const [, name = '', part] of tree.matchAll(PLACEHOLDER)) {
      const problem = placeholderProblem(name, part, scope);
      out.push({ name, path, ...(problem ? { problem } : {}), ...(part ? { part } : {}) });
    }
  } else if (isArray(tree)) {
    tree.forEach((item, i) => {
      references(item, `${path}[${i}]`, out, scope);
    });
  } else if (isObject(tree)) {
    const each = tree.$each;
    let inner = scope;
    if (each !== undefined) {
      if (typeof each === 'string') {
        out.push({ name: each, path: `${path}.$each`, each: true });
        inner = new Set([...scope, each]);
      } else out.push({ name: '', path: `${path}.$each`, problem: 'must name a list parameter' });
    }
    for (const [key, value] of Object.entries(tree)) {
      // The `$when` beside a `$each` is judged once, outside the items.
      if (key === '$when') conditionReferences(value, `${path}.$when`, out, scope);
      else if (key !== '$each') references(value, `${path}.${key}`, out, inner);
    }
  }
}

function parseParameters(value: Json | undefined, problems: Problems): ParameterSpec[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    problems.add('spec.parameters', 'must be a map of parameter name to its definition');
    return [];
  }
  const specs: ParameterSpec[] = [];
  for (const [name, definition] of Object.entries(value)) {
    const field = `spec.parameters.${name}`;
    if (!PARAMETER_NAME.test(name)) problems.add(field, 'parameter names are lowercase words joined by -');
    if (name === BUILTIN_AFTER || name === BUILTIN_CONTAINERS) {
      problems.add(field, `'${name}' is a built-in parameter of every template`);
      continue;
    }
    const spec = parseParameterSpec(name, definition, field, problems);
    if (spec) specs.push(spec);
  }
  return specs;
}

function parseAppMounts(value: Json | undefined, volumes: Set<string>, problems: Problems): AppMount[] {
  if (value === undefined) return [];
  if (!isArray(value)) {
    problems.add('spec.appMounts', 'must be a list');
    return [];
  }
  const mounts: AppMount[] = [];
  value.forEach((item, i) => {
    const field = `spec.appMounts[${i}]`;
    if (!isObject(item)) {
      problems.add(field, 'must be a map');
      return;
    }
    checkFields(item, new Set(['volume', 'mountPath', 'readOnly']), field, problems);
    const { volume, mountPath, readOnly } = item;
    if (typeof volume !== 'string' || !volumes.has(volume)) {
      problems.add(`${field}.volume`, 'must name one of the template volumes');
    } else if (typeof mountPath !== 'string' || mountPath === '') {
      problems.add(`${field}.mountPath`, 'must be a path');
    } else if (readOnly !== undefined && typeof readOnly !== 'boolean') {
      problems.add(`${field}.readOnly`, 'must be true or false');
    } else mounts.push({ volume, mountPath, readOnly: readOnly ?? false });
  });
  return mounts;
}

/** Relative, without `.` or `..` components: it stays inside the volume. */
const RELATIVE_DIR = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

function parseWatchable(
  value: Json | undefined,
  volumes: Set<string>,
  problems: Problems,
): WatchableVolume[] {
  if (value === undefined) return [];
  if (!isArray(value)) {
    problems.add('spec.watchable', 'must be a list');
    return [];
  }
  const out: WatchableVolume[] = [];
  value.forEach((item, i) => {
    const field = `spec.watchable[${i}]`;
    if (!isObject(item)) {
      problems.add(field, 'must be a map');
      return;
    }
    checkFields(item, new Set(['volume', 'dir']), field, problems);
    const { volume, dir } = item;
    if (typeof volume !== 'string' || !volumes.has(volume)) {
      problems.add(`${field}.volume`, 'must name one of the template volumes');
    } else if (dir !== undefined && (typeof dir !== 'string' || !RELATIVE_DIR.test(dir))) {
      problems.add(`${field}.dir`, 'must be a relative path inside the volume (no . or .. components)');
    } else out.push({ volume, ...(typeof dir === 'string' ? { dir } : {}) });
  });
  return out;
}

function parsePodVolumeMounts(value: Json | undefined, problems: Problems): PodVolumeMounts | undefined {
  if (value === undefined) return undefined;
  const field = 'spec.podVolumeMounts';
  if (!isObject(value)) {
    problems.add(field, 'must be a map');
    return undefined;
  }
  checkFields(value, new Set(['parameter', 'select', 'mountPath', 'arg', 'replace']), field, problems);
  const { parameter, select, mountPath, arg } = value;
  const replace = parseReplacement(value.replace, problems);
  if (typeof parameter !== 'string') problems.add(`${field}.parameter`, 'must name a list parameter');
  if (select !== 'config') problems.add(`${field}.select`, "must be 'config'");
  if (typeof mountPath !== 'string' || !/\{\{\s*volume\s*\}\}/.test(mountPath)) {
    problems.add(`${field}.mountPath`, 'must be a path containing {{ volume }}');
  }
  if (arg !== undefined && typeof arg !== 'string') problems.add(`${field}.arg`, 'must be a string');
  if (typeof parameter !== 'string' || select !== 'config' || typeof mountPath !== 'string') return undefined;
  return {
    parameter,
    select,
    mountPath,
    ...(typeof arg === 'string' ? { arg } : {}),
    ...(replace ? { replace } : {}),
  };
}

function parseReplacement(value: Json | undefined, problems: Problems): VolumeReplacement | undefined {
  if (value === undefined) return undefined;
  const field = 'spec.podVolumeMounts.replace';
  if (!isObject(value)) {
    problems.add(field, 'must be a map');
    return undefined;
  }
  checkFields(value, new Set(['when', 'sourceMountPath', 'arg']), field, problems);
  const { when, sourceMountPath, arg } = value;
  if (typeof when !== 'string' || parseCondition(when) === undefined) {
    problems.add(`${field}.when`, 'must be a condition: name, name=value or name^=prefix');
  }
  if (typeof sourceMountPath !== 'string' || !/\{\{\s*volume\s*\}\}/.test(sourceMountPath)) {
    problems.add(`${field}.sourceMountPath`, 'must be a path containing {{ volume }}');
  }
  if (typeof arg !== 'string' || !/\{\{\s*layout\s*\}\}/.test(arg)) {
    problems.add(`${field}.arg`, 'must be a string containing {{ layout }}');
  }
  if (typeof when !== 'string' || typeof sourceMountPath !== 'string' || typeof arg !== 'string')
    return undefined;
  return { when, sourceMountPath, arg };
}

function parseVolumes(value: Json | undefined, problems: Problems): JsonObject[] {
  if (value === undefined) return [];
  if (!isArray(value)) {
    problems.add('spec.volumes', 'must be a list');
    return [];
  }
  const volumes: JsonObject[] = [];
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const field = `spec.volumes[${i}]`;
    if (!isObject(item) || typeof item.name !== 'string' || !DNS_LABEL.test(item.name)) {
      problems.add(field, 'must be a volume with a DNS-label name');
      return;
    }
    if (seen.has(item.name)) problems.add(`${field}.name`, `duplicate volume '${item.name}'`);
    if (item.hostPath !== undefined) problems.add(`${field}.hostPath`, 'hostPath volumes are not allowed');
    seen.add(item.name);
    volumes.push(item);
  });
  return volumes;
}

function parseContainer(value: Json | undefined, volumes: Set<string>, problems: Problems): JsonObject {
  if (!isObject(value)) {
    problems.add('spec.container', 'is required: a core/v1 Container without name');
    return {};
  }
  for (const key of Object.keys(value)) {
    if (key === 'name' || key === 'restartPolicy') {
      problems.add(`spec.container.${key}`, 'is set by sidekick; remove it');
    } else if (!CONTAINER_FIELDS.has(key)) problems.add(`spec.container.${key}`, 'unknown Container field');
  }
  if (typeof value.image !== 'string' || value.image === '') {
    problems.add('spec.container.image', 'is required');
  } else if (value.image.includes('{{')) {
    problems.add('spec.container.image', 'parameters can never pick an image');
  }
  const mounts = value.volumeMounts;
  if (mounts !== undefined) {
    if (!isArray(mounts)) problems.add('spec.container.volumeMounts', 'must be a list');
    else {
      mounts.forEach((mount, i) => {
        if (!isObject(mount) || typeof mount.name !== 'string' || !volumes.has(mount.name)) {
          problems.add(`spec.container.volumeMounts[${i}].name`, 'must name one of the template volumes');
        }
      });
    }
  }
  return value;
}

function parseSwitch(
  value: Json | undefined,
  field: string,
  problems: Problems,
): boolean | { whenSet: string } {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (isObject(value) && typeof value.whenSet === 'string' && Object.keys(value).length === 1) {
    return { whenSet: value.whenSet };
  }
  problems.add(field, 'must be true, false or { whenSet: <parameter> }');
  return false;
}

function parseGroups(value: Json | undefined, problems: Problems): string[][] {
  if (value === undefined) return [];
  if (
    isArray(value) &&
    value.every((g) => isArray(g) && g.length > 1 && g.every((p) => typeof p === 'string'))
  ) {
    return value as string[][];
  }
  problems.add('spec.exactlyOneOf', 'must be a list of lists of two or more parameter names');
  return [];
}

/** A numbered list counts from an integer parameter that always has a value. */
function checkNumbering(parameters: readonly ParameterSpec[], problems: Problems): void {
  for (const list of parameters) {
    if (list.numberFrom === undefined) continue;
    const from = parameters.find((p) => p.name === list.numberFrom);
    if (from?.type !== 'integer' || (from.default === undefined && !from.required)) {
      problems.add(
        `spec.parameters.${list.name}.numberFrom`,
        'must name an integer parameter that is required or has a default',
      );
    }
  }
}

/** Each reference names a declared parameter of the kind it needs. */
function checkReferenced(
  parameters: readonly ParameterSpec[],
  refs: readonly Reference[],
  problems: Problems,
): void {
  const declared = new Set(parameters.map((p) => p.name));
  const types = new Map(parameters.map((p) => [p.name, p.type]));
  const numbered = new Set(parameters.flatMap((p) => (p.numberFrom ? [p.name] : [])));
  for (const ref of refs) {
    if (ref.problem !== undefined) problems.add(ref.path, ref.problem);
    else if (!declared.has(ref.name)) problems.add(ref.path, `refers to undeclared parameter '${ref.name}'`);
    else if (ref.each && types.get(ref.name) !== 'list')
      problems.add(ref.path, `'${ref.name}' is not a list parameter`);
    else if (ref.part === 'number' && !numbered.has(ref.name))
      problems.add(ref.path, `.number needs a numbered list: '${ref.name}' has no numberFrom`);
  }
}

function checkReferences(template: SidecarTemplate, problems: Problems): void {
  const declared = new Set(template.parameters.map((p) => p.name));
  const refs: Reference[] = [];
  references(template.container, 'spec.container', refs);
  template.volumes.forEach((v, i) => {
    references(v, `spec.volumes[${i}]`, refs);
  });
  template.appMounts.forEach((m, i) => {
    references(m.mountPath, `spec.appMounts[${i}].mountPath`, refs);
  });
  checkReferenced(template.parameters, refs, problems);
  checkNumbering(template.parameters, problems);
  const groups = template.exactlyOneOf.flat();
  const switches = [template.shareProcessNamespace, template.runOnce].flatMap((s) =>
    typeof s === 'object' ? [s.whenSet] : [],
  );
  const named = [...groups, ...switches];
  for (const name of named) {
    if (!declared.has(name)) problems.add('spec', `refers to undeclared parameter '${name}'`);
  }
  const pvm = template.podVolumeMounts;
  if (pvm && template.parameters.find((p) => p.name === pvm.parameter)?.type !== 'list') {
    problems.add('spec.podVolumeMounts.parameter', `must name a declared list parameter`);
  }
  const when = pvm?.replace ? parseCondition(pvm.replace.when) : undefined;
  if (when && !declared.has(when.param)) {
    problems.add('spec.podVolumeMounts.replace.when', `refers to undeclared parameter '${when.param}'`);
  }
}

/** The builtin parameters every template gets. */
function builtins(hasAppMounts: boolean): ParameterSpec[] {
  const after: ParameterSpec = {
    name: BUILTIN_AFTER,
    type: 'string',
    required: false,
    pattern: DNS_LABEL.source.slice(1, -1),
    format: 'the name of one of the Pod init containers',
    description: 'start this sidecar after the named init container of the Pod instead of before all of them',
  };
  const containers: ParameterSpec = {
    name: BUILTIN_CONTAINERS,
    type: 'list',
    required: false,
    default: [],
    pattern: DNS_LABEL.source.slice(1, -1),
    format: 'container names',
    description: 'the app containers that get the mounts (default: all)',
  };
  return hasAppMounts ? [after, containers] : [after];
}

export function parseTemplate(
  document: Json,
  source: string,
): { template?: SidecarTemplate; problems: string[] } {
  const problems = new Problems(source);
  if (!isObject(document)) return { problems: [`${source}: not a YAML map`] };
  checkFields(document, new Set(['apiVersion', 'kind', 'metadata', 'spec']), '', problems);
  if (document.apiVersion !== 'sidekick.dev/v1alpha1')
    problems.add('apiVersion', "must be 'sidekick.dev/v1alpha1'");
  if (document.kind !== 'SidecarTemplate') problems.add('kind', "must be 'SidecarTemplate'");
  const name = isObject(document.metadata) ? document.metadata.name : undefined;
  if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > 63) {
    problems.add(
      'metadata.name',
      'must be a DNS label (lowercase letters, digits, -) of at most 63 characters',
    );
  }
  const spec = document.spec;
  if (!isObject(spec)) {
    problems.add('spec', 'is required');
    return { problems: problems.list };
  }
  checkFields(spec, SPEC_FIELDS, 'spec', problems);
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    problems.add('spec.description', 'must be a string');
  }
  const volumes = parseVolumes(spec.volumes, problems);
  const volumeNames = new Set(volumes.map((v) => (typeof v.name === 'string' ? v.name : '')));
  const appMounts = parseAppMounts(spec.appMounts, volumeNames, problems);
  const container = parseContainer(spec.container, volumeNames, problems);
  const resourceBounds = parseResourceBounds(spec.resourceBounds, problems);
  checkTemplateResources(container, resourceBounds, problems);
  const watchable = parseWatchable(spec.watchable, volumeNames, problems);
  const template: SidecarTemplate = {
    name: typeof name === 'string' ? name : '',
    description: typeof spec.description === 'string' ? spec.description : '',
    source,
    parameters: [
      ...parseParameters(spec.parameters, problems),
      ...builtins(appMounts.length > 0),
      ...resourceParameters(container, resourceBounds),
    ],
    requires: stringList(spec.requires, 'spec.requires', problems),
    after: stringList(spec.after, 'spec.after', problems),
    exactlyOneOf: parseGroups(spec.exactlyOneOf, problems),
    shareProcessNamespace: parseSwitch(spec.shareProcessNamespace, 'spec.shareProcessNamespace', problems),
    runOnce: parseSwitch(spec.runOnce, 'spec.runOnce', problems),
    container,
    volumes,
    appMounts,
    resourceBounds,
    watchable,
    hash: createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 16),
  };
  const pvm = parsePodVolumeMounts(spec.podVolumeMounts, problems);
  if (pvm) template.podVolumeMounts = pvm;
  checkReferences(template, problems);
  // Returned even with problems, so that cross-template checks can report theirs too.
  return { template, problems: problems.list };
}
