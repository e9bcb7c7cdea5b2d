import { parseAllDocuments, stringify } from 'yaml';
import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { injectPod } from '../inject/pipeline.js';
import type { InjectOptions, InjectOutcome } from '../inject/types.js';
import { getPath, podTemplatePath, withPath } from '../inject/workloads.js';

export interface ObjectReport {
  object: string;
  outcome: InjectOutcome | { decision: 'pass'; object: string; reason: string; warnings: string[] };
}

export interface DocumentsResult {
  /** The documents with every Pod template injected; empty when any object was refused. */
  output: string;
  reports: ObjectReport[];
  refused: boolean;
}

type Options = Omit<InjectOptions, 'describe' | 'namespace'> & { namespace: string };

function describeWorkload(kind: string, meta: JsonObject, namespace: string): string {
  const { name, generateName } = meta;
  if (typeof name === 'string' && name !== '') return `${kind} ${namespace}/${name}`;
  if (typeof generateName === 'string' && generateName !== '') return `${kind} ${namespace}/${generateName}*`;
  return `${kind} ${namespace}/(unnamed)`;
}

function isList(object: JsonObject, kind: string): boolean {
  return kind === 'List' || (kind.endsWith('List') && isArray(object.items));
}

function injectObject(object: Json, options: Options, reports: ObjectReport[]): Json {
  if (!isObject(object)) return object;
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (isList(object, kind)) {
    const items = isArray(object.items) ? object.items : [];
    return { ...object, items: items.map((item) => injectObject(item, options, reports)) };
  }
  const meta = isObject(object.metadata) ? object.metadata : {};
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : options.namespace;
  const describe = describeWorkload(kind || '(no kind)', meta, namespace);
  const path = podTemplatePath(kind);
  const template = path ? getPath(object, path) : undefined;
  if (!path || !template) {
    const reason = path ? 'it has no Pod template' : `kind ${kind || '(none)'} has no Pod template`;
    reports.push({ object: describe, outcome: { decision: 'pass', object: describe, reason, warnings: [] } });
    return object;
  }
  const outcome = injectPod(template, { ...options, namespace, describe });
  reports.push({ object: describe, outcome });
  return outcome.decision === 'inject' ? withPath(object, path, outcome.pod) : object;
}

/** YAML documents in, the same documents with sidecars injected out: `sidekick inject` without I/O. */
export function injectDocuments(text: string, options: Options): DocumentsResult {
  const reports: ObjectReport[] = [];
  const outputs: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      const message = doc.errors.map((e) => e.message.split('\n')[0] ?? '').join('; ');
      reports.push({
        object: 'YAML input',
        outcome: {
          decision: 'refuse',
          object: 'YAML input',
          message: `YAML input: ${message}`,
          warnings: [],
        },
      });
      continue;
    }
    const content = doc.toJS({ maxAliasCount: 100 }) as Json;
    if (content === null) continue;
    outputs.push(
      stringify(injectObject(content, options, reports), { lineWidth: 0, aliasDuplicateObjects: false }),
    );
  }
  const refused = reports.some((r) => r.outcome.decision === 'refuse');
  return { output: refused ? '' : outputs.join('---\n'), reports, refused };
}
