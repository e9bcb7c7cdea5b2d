import { parseAllDocuments, stringify } from 'yaml';
import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { injectWorkload, type WorkloadOptions, type WorkloadResult } from '../inject/workload.js';

export interface ObjectReport {
  object: string;
  outcome: WorkloadResult['outcome'];
}

/** The documents with every Pod template injected; empty when any object was refused. */
export interface DocumentsResult {
  output: string;
  reports: ObjectReport[];
  refused: boolean;
  /** Documents that held something (an empty input is a mistake worth saying). */
  documents: number;
}

function isList(object: JsonObject, kind: string): boolean {
  return kind === 'List' || (kind.endsWith('List') && isArray(object.items));
}

function injectObject(object: Json, options: WorkloadOptions, reports: ObjectReport[]): Json {
  if (!isObject(object)) return object;
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (isList(object, kind)) {
    const items = isArray(object.items) ? object.items : [];
    return { ...object, items: items.map((item) => injectObject(item, options, reports)) };
  }
  const { object: name, outcome, result } = injectWorkload(object, options);
  reports.push({ object: name, outcome });
  return result;
}

/** YAML documents in, the same documents with sidecars injected out: `sidekick inject` without I/O. */
export function injectDocuments(
  text: string,
  options: WorkloadOptions,
  source = 'YAML input',
): DocumentsResult {
  const reports: ObjectReport[] = [];
  const outputs: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      const message = doc.errors.map((e) => e.message.split('\n')[0] ?? '').join('; ');
      reports.push({
        object: source,
        outcome: {
          decision: 'refuse',
          object: source,
          message: `${source}: ${message}`,
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
  const documents = outputs.length + reports.filter((r) => r.object === source).length;
  return { output: refused ? '' : outputs.join('---\n'), reports, refused, documents };
}
