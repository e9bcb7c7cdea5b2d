import type { Phase, StoredCertificates } from './rotation.js';
import type { PemSet } from './validity.js';

/** Annotations on the Secret that record where a rotation stands. */
export const PHASE_ANNOTATION = 'sidekick.dev/certificate-phase';
export const SINCE_ANNOTATION = 'sidekick.dev/certificate-phase-since';

/** Beside the kubernetes.io/tls keys: the pair served next (trust-new), the CA served before (serve-new). */
const NEXT_KEYS = { ca: 'next-ca.crt', cert: 'next-tls.crt', key: 'next-tls.key' } as const;
const SERVING_KEYS = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;
const PREVIOUS_CA = 'previous-ca.crt';

const PHASES: readonly Phase[] = ['stable', 'trust-new', 'serve-new'];

export interface SecretContent {
  /** Values base64-encoded, as in a Secret's `data`. */
  data: Record<string, string>;
  annotations: Record<string, string>;
}

export type DecodedSecret = { ok: true; stored: StoredCertificates } | { ok: false; problem: string };

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string | undefined =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString('utf8');

function pemsAt(data: Record<string, string>, keys: Record<keyof PemSet, string>): PemSet | undefined {
  const ca = unb64(data[keys.ca]);
  const cert = unb64(data[keys.cert]);
  const key = unb64(data[keys.key]);
  return ca && cert && key ? { ca, cert, key } : undefined;
}

/** The rotation state a Secret holds; one without the three TLS keys holds none. */
export function decodeSecret(
  name: string,
  data: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
): DecodedSecret {
  const values = data ?? {};
  const serving = pemsAt(values, SERVING_KEYS);
  if (!serving) return { ok: false, problem: `Secret ${name} lacks ca.crt, tls.crt or tls.key` };
  const written = annotations?.[PHASE_ANNOTATION];
  // A Secret written before phases existed, or by hand, is stable.
  const phase = PHASES.find((p) => p === written) ?? 'stable';
  const since = Date.parse(annotations?.[SINCE_ANNOTATION] ?? '');
  const next = pemsAt(values, NEXT_KEYS);
  const previousCa = unb64(values[PREVIOUS_CA]);
  return {
    ok: true,
    stored: {
      serving,
      phase,
      ...(Number.isNaN(since) ? {} : { since }),
      ...(phase === 'trust-new' && next ? { next } : {}),
      ...(phase === 'serve-new' && previousCa ? { previousCa } : {}),
    },
  };
}

/** The Secret's data and annotations for a state: keys of other phases are left out. */
export function encodeSecret(stored: StoredCertificates): SecretContent {
  const data: Record<string, string> = {
    [SERVING_KEYS.ca]: b64(stored.serving.ca),
    [SERVING_KEYS.cert]: b64(stored.serving.cert),
    [SERVING_KEYS.key]: b64(stored.serving.key),
  };
  if (stored.phase === 'trust-new' && stored.next) {
    data[NEXT_KEYS.ca] = b64(stored.next.ca);
    data[NEXT_KEYS.cert] = b64(stored.next.cert);
    data[NEXT_KEYS.key] = b64(stored.next.key);
  }
  if (stored.phase === 'serve-new' && stored.previousCa) data[PREVIOUS_CA] = b64(stored.previousCa);
  const annotations: Record<string, string> = { [PHASE_ANNOTATION]: stored.phase };
  if (stored.since !== undefined) annotations[SINCE_ANNOTATION] = new Date(stored.since).toISOString();
  return { data, annotations };
}
