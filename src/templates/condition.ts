/** A `$when` condition: `name`, `name=literal` or `name^=prefix`, each negated by a leading `!`. */
export interface Condition {
  kind: 'set' | 'equals' | 'prefix';
  param: string;
  value: string;
  negate: boolean;
}

const FORM = /^(!?)([a-z][a-z0-9-]*)(?:(\^?=)(.*))?$/s;

export function parseCondition(text: string): Condition | undefined {
  const match = FORM.exec(text.trim());
  if (!match) return undefined;
  const [, bang, param = '', op, value = ''] = match;
  const kind = op === undefined ? 'set' : op === '=' ? 'equals' : 'prefix';
  return { kind, param, value, negate: bang === '!' };
}
