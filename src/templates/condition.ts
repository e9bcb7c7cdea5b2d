/**
 * A `$when` condition: `name`, `name=literal` or `name^=prefix`, each negated by a leading `!`.
 * Inside `$each: name`, `name.key`, `name.value` and `name.index` are the current item's parts.
 */
export interface Condition {
  kind: 'set' | 'equals' | 'prefix';
  param: string;
  /** An item part (`key`, `value`, `index`) of the list parameter `param`. */
  part?: string;
  value: string;
  negate: boolean;
}

const FORM = /^(!?)([a-z][a-z0-9-]*)(?:\.(key|value|index))?(?:(\^?=)(.*))?$/s;

export function parseCondition(text: string): Condition | undefined {
  const match = FORM.exec(text.trim());
  if (!match) return undefined;
  const [, bang, param = '', part, op, value = ''] = match;
  const kind = op === undefined ? 'set' : op === '=' ? 'equals' : 'prefix';
  return { kind, param, ...(part === undefined ? {} : { part }), value, negate: bang === '!' };
}
