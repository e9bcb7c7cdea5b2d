import { assessCertificate, type CertificateNames, type PemSet } from './validity.js';

/**
 * A CA rotation in three phases, so that no admission fails while kubelet swaps the mounted
 * Secret (it can take a minute or more) and while the webhook configurations' caBundle is
 * updated (the apiserver picks it up at once):
 *   trust-new  the caBundle trusts the old and the new CA; the Secret still serves the old pair
 *              and keeps the new one beside it;
 *   serve-new  the Secret serves the new pair; the caBundle still trusts both, for the servers
 *              whose mounted copy is not swapped yet;
 *   stable     the caBundle trusts the new CA only.
 * Each phase lasts at least the rotation step; each run of `sidekick certs` moves at most one
 * phase on, so an hourly CronJob completes a rotation in about three hours.
 */
export type Phase = 'stable' | 'trust-new' | 'serve-new';

export interface StoredCertificates {
  /** What the servers serve (ca.crt, tls.crt, tls.key). */
  serving: PemSet;
  phase: Phase;
  /** When the phase began (ms since the epoch); absent in a Secret made before phases existed. */
  since?: number;
  /** trust-new: the pair that will be served next. */
  next?: PemSet;
  /** serve-new: the CA of the pair served before, still trusted. */
  previousCa?: string;
}

export interface RotationPolicy {
  /** Start a rotation when less than this fraction of the certificate's validity remains. */
  renewFraction: number;
  /** The least time a phase lasts before the next run moves on (ms). */
  stepMs: number;
  /** Rotate now whatever the certificate's state. */
  force?: boolean;
}

export type RotationPlan =
  /** Nothing stored yet: issue a pair and serve it. */
  | { kind: 'create' }
  /** The stored pair cannot serve at all: phases would only prolong the outage; replace it now. */
  | { kind: 'replace'; reason: string }
  /** Issue the next pair and trust it beside the current one. */
  | { kind: 'begin'; reason: string }
  | { kind: 'advance'; to: Exclude<Phase, 'trust-new'> }
  /** A phase that has not lasted its step yet. */
  | { kind: 'wait'; phase: Exclude<Phase, 'stable'>; until: number }
  | { kind: 'keep' };

export function planRotation(
  stored: StoredCertificates | undefined,
  names: CertificateNames,
  policy: RotationPolicy,
  now: number,
): RotationPlan {
  if (stored === undefined) return { kind: 'create' };
  const serving = assessCertificate(stored.serving, names, now, policy.renewFraction);
  if (serving.state === 'unusable') return { kind: 'replace', reason: serving.reason };
  if (stored.phase === 'stable') {
    if (policy.force) return { kind: 'begin', reason: 'a new certificate was asked for' };
    return serving.state === 'due' ? { kind: 'begin', reason: serving.reason } : { kind: 'keep' };
  }
  if (stored.phase === 'trust-new' && (stored.next === undefined || isUnusable(stored.next, names, now))) {
    // The pair waiting to be served is missing or broken: issue another and start the phase over.
    return { kind: 'begin', reason: 'the next certificate is missing or unusable' };
  }
  const until = (stored.since ?? 0) + policy.stepMs;
  if (now < until) return { kind: 'wait', phase: stored.phase, until };
  return { kind: 'advance', to: stored.phase === 'trust-new' ? 'serve-new' : 'stable' };
}

function isUnusable(pems: PemSet, names: CertificateNames, now: number): boolean {
  return assessCertificate(pems, names, now, 0).state === 'unusable';
}

/**
 * What to store after the plan; `issued` is the new pair that create, replace and begin need.
 * Undefined when the plan changes nothing.
 */
export function applyRotation(
  stored: StoredCertificates | undefined,
  plan: RotationPlan,
  now: number,
  issued?: PemSet,
): StoredCertificates | undefined {
  switch (plan.kind) {
    case 'keep':
    case 'wait':
      return undefined;
    case 'create':
    case 'replace':
      return { serving: required(issued, plan.kind), phase: 'stable', since: now };
    case 'begin':
      return { serving: current(stored).serving, phase: 'trust-new', since: now, next: required(issued, plan.kind) };
    case 'advance': {
      const from = current(stored);
      if (plan.to === 'serve-new') {
        return { serving: required(from.next, 'serve-new'), phase: 'serve-new', since: now, previousCa: from.serving.ca };
      }
      return { serving: from.serving, phase: 'stable', since: now };
    }
  }
}

function required(pems: PemSet | undefined, step: string): PemSet {
  if (pems === undefined) throw new Error(`${step} needs a newly issued certificate`);
  return pems;
}

function current(stored: StoredCertificates | undefined): StoredCertificates {
  if (stored === undefined) throw new Error('no stored certificates to rotate');
  return stored;
}

/** The CAs that the webhook configurations' caBundle must trust in this state, PEM each. */
export function trustedCas(stored: StoredCertificates): string[] {
  const cas =
    stored.phase === 'trust-new'
      ? [stored.serving.ca, ...(stored.next ? [stored.next.ca] : [])]
      : stored.phase === 'serve-new'
        ? [...(stored.previousCa ? [stored.previousCa] : []), stored.serving.ca]
        : [stored.serving.ca];
  return [...new Set(cas.map((pem) => pem.trim()))];
}

/** The caBundle: the PEMs one after the other; one CA alone is exactly its PEM as issued. */
export function caBundle(stored: StoredCertificates): string {
  return trustedCas(stored).join('\n');
}
