import fastJsonPatch from 'fast-json-patch';
import { isArray, isObject, type Json } from '../../../src/json.js';

/**
 * A strict RFC 6902 applier for the ops sidekick writes (add, remove, replace), as the
 * apiserver applies them: every key is data, `__proto__` included, and a path that does not
 * exist is an error. It checks fast-json-patch, which refuses `__proto__` paths outright.
 */
function tokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} does not start with /`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function index(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new Error(`array index ${JSON.stringify(token)} is not a number`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length))
    throw new Error(`array index ${i} is out of range (${length})`);
  return i;
}

function child(node: Json, token: string): Json {
  if (isArray(node)) {
    const value = node[index(token, node.length, false)];
    if (value === undefined) throw new Error(`no item ${token}`);
    return value;
  }
  if (isObject(node) && Object.prototype.hasOwnProperty.call(node, token)) return node[token] ?? null;
  throw new Error(`no member ${JSON.stringify(token)}`);
}

function setMember(node: Json, token: string, value: Json, op: 'add' | 'replace'): void {
  if (isArray(node)) {
    const i = index(token, node.length, op === 'add');
    if (op === 'add') node.splice(i, 0, value);
    else node[i] = value;
    return;
  }
  if (!isObject(node)) throw new Error(`cannot ${op} ${JSON.stringify(token)} inside a scalar`);
  if (op === 'replace' && !Object.prototype.hasOwnProperty.call(node, token))
    throw new Error(`cannot replace missing member ${JSON.stringify(token)}`);
  Object.defineProperty(node, token, { value, enumerable: true, writable: true, configurable: true });
}

function removeMember(node: Json, token: string): void {
  if (isArray(node)) node.splice(index(token, node.length, false), 1);
  else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, token))
    Reflect.deleteProperty(node, token);
  else throw new Error(`cannot remove missing member ${JSON.stringify(token)}`);
}

export function strictApply(document: Json, patch: readonly fastJsonPatch.Operation[]): Json {
  let root = JSON.parse(JSON.stringify(document)) as Json;
  for (const op of patch) {
    if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace')
      throw new Error(`unexpected op ${op.op}`);
    const path = tokens(op.path);
    const last = path.pop();
    const value = op.op === 'remove' ? null : (JSON.parse(JSON.stringify(op.value)) as Json);
    if (last === undefined) {
      if (op.op === 'remove') throw new Error('cannot remove the whole document');
      root = value;
      continue;
    }
    const parent = path.reduce(child, root);
    if (op.op === 'remove') removeMember(parent, last);
    else setMember(parent, last, value, op.op);
  }
  return root;
}

const BANNED = /(^|\/)__proto__(\/|$)|(^|\/)constructor\/prototype(\/|$)/;

/**
 * The patch applied to a copy of `document`: by fast-json-patch with validation on, and by the
 * strict applier, which must agree. Throws when either finds the patch does not apply.
 */
export function applied(document: Json, patch: readonly fastJsonPatch.Operation[]): Json {
  const strict = strictApply(document, patch);
  if (patch.some((op) => BANNED.test(op.path))) return strict;
  const copy = JSON.parse(JSON.stringify(document)) as Json;
  const library = fastJsonPatch.applyPatch(copy, [...patch], true, false).newDocument;
  if (JSON.stringify(library) !== JSON.stringify(strict))
    throw new Error('fast-json-patch and the strict applier disagree on the patched document');
  return strict;
}
