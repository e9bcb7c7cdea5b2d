import { BoundedCache } from '../bounded-cache.js';

/**
 * Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `1e3`), read and written the way
 * apimachinery's `resource.Quantity` reads and writes them, with exact integer arithmetic:
 * a quantity is held as a whole number of nano-units (a BigInt), which is also the finest
 * precision Kubernetes keeps (it rounds finer values up, away from zero, when it parses).
 */

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface Quantity {
  /** The value times 10^9, rounded up (away from zero) as Kubernetes rounds. */
  nanos: bigint;
  /** The notation the quantity was written in; its canonical form keeps it where it can. */
  format: QuantityFormat;
}

const GRAMMAR =
  /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E)?)$/;
const BINARY: readonly string[] = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([suffix, exp]) => [exp, suffix]));
const NANO = 10n ** 9n;
/** Kubernetes caps quantities at the largest int64; sidekick refuses what it would silently cap. */
const MAX_NANOS = (2n ** 63n - 1n) * NANO;
/** Far beyond any real quantity; keeps hostile exponents from costing anything. */
const MAX_EXPONENT = 40;

export const QUANTITY_EXAMPLES = '250m, 1.5, 512Mi or 1Gi';

function ceilDiv(num: bigint, den: bigint): bigint {
  return (num + den - 1n) / den;
}

/**
 * Every admission checks each sidecar's requests against its limits, and the texts are mostly
 * the templates' own: parsed once, the results frozen and shared.
 */
const PARSED = new BoundedCache<string, Quantity | { error: string }>(1024);

/** Reads a quantity, or says why the text is not one. */
export function parseQuantity(text: string): Quantity | { error: string } {
  return PARSED.get(text, () => Object.freeze(parseUncached(text)));
}

function parseUncached(text: string): Quantity | { error: string } {
  const m = GRAMMAR.exec(text);
  if (!m) return { error: `is not a Kubernetes quantity (such as ${QUANTITY_EXAMPLES})` };
  const [, sign = '', number = '', binary, exponent, decimal = ''] = m;
  const [whole = '', fraction = ''] = number.split('.');
  const format: QuantityFormat =
    binary !== undefined ? 'BinarySI' : exponent !== undefined ? 'DecimalExponent' : 'DecimalSI';
  const e10 = exponent !== undefined ? Number(exponent) : (DECIMAL[decimal] ?? 0);
  if (Math.abs(e10) > MAX_EXPONENT)
    return { error: `has an exponent out of range (at most e${MAX_EXPONENT})` };
  const magnitude = nanosOf(`${whole}${fraction}`, fraction.length, e10, BINARY.indexOf(binary ?? ''));
  if (magnitude > MAX_NANOS) return { error: 'is too large (Kubernetes quantities stop at 2^63-1)' };
  return { nanos: sign === '-' ? -magnitude : magnitude, format };
}

/** digits × 10^-decimals × 10^e10 × 1024^e1024, in nano-units, rounded up. */
function nanosOf(digits: string, decimals: number, e10: number, e1024: number): bigint {
  let num = BigInt(digits || '0') * 1024n ** BigInt(Math.max(e1024, 0));
  let den = 10n ** BigInt(decimals);
  const scale = 9 + e10;
  if (scale >= 0) num *= 10n ** BigInt(scale);
  else den *= 10n ** BigInt(-scale);
  return ceilDiv(num, den);
}

export function isQuantity(value: Quantity | { error: string }): value is Quantity {
  return 'nanos' in value;
}

/** A quantity that was checked when its template loaded (a bound, a template's own value). */
export function quantityOf(text: string): Quantity {
  const q = parseQuantity(text);
  if (!isQuantity(q)) throw new Error(`not a quantity: ${JSON.stringify(text)}`);
  return q;
}

/** -1, 0 or 1, exactly. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** The number of times `factor` divides `n` (n > 0), up to `limit`, and what is left. */
function removeFactors(n: bigint, factor: bigint, limit: number): [bigint, number] {
  let rest = n;
  let times = 0;
  while (times < limit && rest % factor === 0n) {
    rest /= factor;
    times++;
  }
  return [rest, times];
}

function canonicalBinary(magnitude: bigint): string {
  const [mantissa, times] = removeFactors(magnitude / NANO, 1024n, BINARY.length - 1);
  return `${mantissa}${BINARY[times] ?? ''}`;
}

function canonicalDecimal(magnitude: bigint, format: QuantityFormat): string {
  const [rest, times] = removeFactors(magnitude, 10n, 64);
  let mantissa = rest;
  let exponent = times - 9;
  const over = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(over);
  exponent -= over;
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  return `${mantissa}${DECIMAL_SUFFIX.get(exponent) ?? ''}`;
}

/**
 * The form the apiserver stores (`0.5` → `500m`, `1024Mi` → `1Gi`, `1.5Gi` → `1536Mi`), so that
 * what sidekick writes is what a later admission of the same Pod reads back.
 */
export function canonicalQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const negative = q.nanos < 0n;
  const magnitude = negative ? -q.nanos : q.nanos;
  const binary = q.format === 'BinarySI' && magnitude >= 1024n * NANO && magnitude % NANO === 0n;
  const text = binary
    ? canonicalBinary(magnitude)
    : canonicalDecimal(magnitude, q.format === 'DecimalExponent' ? 'DecimalExponent' : 'DecimalSI');
  return negative ? `-${text}` : text;
}

/** A quantity given as YAML text or a YAML number (`cpu: 2`), canonical, or why it is not one. */
export function readQuantity(value: unknown): { quantity: Quantity; text: string } | { error: string } {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string')
    return { error: `is not a Kubernetes quantity (such as ${QUANTITY_EXAMPLES})` };
  const parsed = parseQuantity(text);
  return isQuantity(parsed) ? { quantity: parsed, text: canonicalQuantity(parsed) } : parsed;
}
