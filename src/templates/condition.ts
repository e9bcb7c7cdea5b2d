/** A `$when` condition: `name`, `!name`, `name=literal` or `name^=prefix`. */
export type Condition =
  | { kind: 'set'; param: string; negate: boolean }
  | { kind: 'equals'; param: string; value: string }
  | { kind: 'prefix'; param: string; value: string };

const FORM = /^(!?)([a-z][a-z0-9-]*)(?:(\^?=)(.*))?$/s;

export function parseCondition(text: string): Condition | undefined {
  const match = FORM.exec(text.trim());
  if (!match) return undefined;
  const [, bang, param = '', op, value = ''] = match;
  if (op === undefined) return { kind: 'set', param, negate: bang === '!' };
  if (bang === '!') return undefined;
  return op === '=' ? { kind: 'equals', param, value } : { kind: 'prefix', param, value };
}
