/**
 * A numbered list (a list parameter with `numberFrom`): an item `key=N` has the number N, and
 * the others take the start, start+1, … in their order, skipping nothing; an item with its own
 * number does not use one up. This is how Cloud SQL Auth Proxy gives its instances ports, and
 * the numbers are what a template declares as the ports its program listens on.
 */
export interface Numbering {
  /** Per item, in order; only when there are no problems. */
  numbers: number[];
  /**
   * Phrases about items (`item 'a=x' …`), to be prefixed with the annotation; `counted` when
   * an item that takes the next number is involved (the message should then say from where).
   */
  problems: { text: string; counted: boolean }[];
}

export interface NumberBounds {
  minimum?: number;
  maximum?: number;
}

const DIGITS = /^[0-9]{1,15}$/;

function range(bounds: NumberBounds): string {
  const { minimum: lo, maximum: hi } = bounds;
  if (lo !== undefined && hi !== undefined) return `from ${lo} to ${hi}`;
  if (lo !== undefined) return `of at least ${lo}`;
  if (hi !== undefined) return `of at most ${hi}`;
  return 'that is a whole number';
}

function inBounds(n: number, bounds: NumberBounds): boolean {
  return (
    (bounds.minimum === undefined || n >= bounds.minimum) &&
    (bounds.maximum === undefined || n <= bounds.maximum)
  );
}

/** The numbers of the items, which must lie within the bounds and differ from one another. */
export function numberItems(items: readonly string[], start: number, bounds: NumberBounds): Numbering {
  const problems: Numbering['problems'] = [];
  const numbers: number[] = [];
  const counted: boolean[] = [];
  let next = start;
  for (const item of items) {
    const at = item.indexOf('=');
    if (at >= 0) {
      const own = item.slice(at + 1).trim();
      const n = Number(own);
      if (!DIGITS.test(own) || !inBounds(n, bounds)) {
        problems.push({ text: `item '${item}' has no number ${range(bounds)} after =`, counted: false });
      }
      numbers.push(n);
      counted.push(false);
    } else {
      if (!inBounds(next, bounds)) {
        problems.push({
          text: `item '${item}' would take ${next}, not a number ${range(bounds)}`,
          counted: true,
        });
      }
      numbers.push(next);
      counted.push(true);
      next += 1;
    }
  }
  const first = new Map<number, number>();
  numbers.forEach((n, i) => {
    const earlier = first.get(n);
    if (earlier === undefined) first.set(n, i);
    else
      problems.push({
        text: `items '${items[earlier] ?? ''}' and '${items[i] ?? ''}' both take ${n}`,
        counted: counted[earlier] === true || counted[i] === true,
      });
  });
  return problems.length > 0 ? { numbers: [], problems } : { numbers, problems };
}
