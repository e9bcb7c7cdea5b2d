// The CA rotation's phase machine on a simulated clock: a CronJob stand-in runs the plan every
// simulated minute; servers see the Secret as kubelet would, some minutes late. At every minute
// the caBundle must trust what every server serves, and the certificate in use must be valid.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { generateServingCertificate } from '../../src/certs/generate.js';
import {
  applyRotation,
  caBundle,
  planRotation,
  trustedCas,
  type Phase,
  type RotationPolicy,
  type StoredCertificates,
} from '../../src/certs/rotation.js';
import { decodeSecret, encodeSecret, PHASE_ANNOTATION } from '../../src/certs/secret-state.js';
import type { PemSet } from '../../src/certs/validity.js';

const MINUTE = 60_000;
const NAMES = { dnsNames: ['sidekick.sidekick.svc'] };
const T0 = Date.parse('2030-01-01T00:00:00Z');

async function issueAt(now: number, validityMs: number): Promise<PemSet> {
  const issued = await generateServingCertificate({ dnsNames: NAMES.dnsNames, validityMs, now });
  return { ca: issued.ca.cert, cert: issued.cert, key: issued.key };
}

interface Simulation {
  /** Every phase change: when, to what. */
  transitions: { at: number; phase: Phase }[];
  /** Minutes at which a server's certificate was not trusted by the caBundle, or had expired. */
  failures: string[];
  serials: string[];
}

/**
 * Runs `minutes` of simulated time: the planner every `everyMinutes`, servers that serve the
 * Secret as it was `lagMinutes` ago (kubelet's refresh of a mounted Secret).
 */
async function simulate(options: {
  validityMs: number;
  policy: RotationPolicy;
  minutes: number;
  everyMinutes: number;
  lagMinutes: number;
}): Promise<Simulation> {
  const history: { at: number; stored: StoredCertificates }[] = [];
  const result: Simulation = { transitions: [], failures: [], serials: [] };
  let stored: StoredCertificates | undefined;
  for (let minute = 0; minute <= options.minutes; minute++) {
    const now = T0 + minute * MINUTE;
    if (minute % options.everyMinutes === 0) {
      const plan = planRotation(stored, NAMES, options.policy, now);
      const needsIssue = plan.kind === 'create' || plan.kind === 'replace' || plan.kind === 'begin';
      const next = applyRotation(
        stored,
        plan,
        now,
        needsIssue ? await issueAt(now, options.validityMs) : undefined,
      );
      if (next) {
        if (next.phase !== stored?.phase || plan.kind === 'begin')
          result.transitions.push({ at: minute, phase: next.phase });
        stored = next;
        history.push({ at: now, stored: next });
        const serial = new X509Certificate(next.serving.cert).serialNumber;
        if (result.serials.at(-1) !== serial) result.serials.push(serial);
      }
    }
    assert.ok(stored);
    // What a server whose mounted copy is `lag` behind serves (the oldest copy before that, at start).
    const seen = [...history].reverse().find((h) => h.at <= now - options.lagMinutes * MINUTE) ?? history[0];
    assert.ok(seen);
    const served = new X509Certificate(seen.stored.serving.cert);
    const trusted = trustedCas(stored).map((pem) => new X509Certificate(pem));
    if (!trusted.some((ca) => served.verify(ca.publicKey)))
      result.failures.push(`minute ${String(minute)}: untrusted`);
    if (Date.parse(served.validTo) <= now) result.failures.push(`minute ${String(minute)}: expired`);
  }
  return result;
}

void describe('certificate rotation (simulated clock)', () => {
  // Two pairs issued at T0, shared by the tests that need no clock (RSA keys are slow to make).
  let old: PemSet;
  let fresh: PemSet;
  before(async () => {
    [old, fresh] = await Promise.all([issueAt(T0, 60 * MINUTE), issueAt(T0, 60 * MINUTE)]);
  });

  void it('renews at the fraction through trust-new, serve-new and stable, and never serves an untrusted or expired certificate', async () => {
    const sim = await simulate({
      validityMs: 90 * MINUTE,
      policy: { renewFraction: 1 / 3, stepMs: 10 * MINUTE },
      minutes: 200,
      everyMinutes: 1,
      lagMinutes: 4,
    });
    assert.deepEqual(sim.failures, []);
    const phases = sim.transitions.map((t) => t.phase);
    assert.deepEqual(phases.slice(0, 7), [
      'stable',
      'trust-new',
      'serve-new',
      'stable',
      'trust-new',
      'serve-new',
      'stable',
    ]);
    const [, trustNew, serveNew, stable] = sim.transitions;
    // Valid from minute -5 (backdated) to 90: a third of those 95 minutes remains after minute 58.3.
    assert.equal(trustNew?.at, 59);
    assert.equal(serveNew?.at, trustNew.at + 10);
    assert.equal(stable?.at, trustNew.at + 20);
    assert.ok(sim.serials.length >= 3, 'a new serial each rotation');
  });

  void it('with an hourly CronJob, each phase lasts at least the step, and a rotation finishes within three runs', async () => {
    const sim = await simulate({
      validityMs: 24 * 60 * MINUTE,
      policy: { renewFraction: 1 / 3, stepMs: 30 * MINUTE },
      minutes: 24 * 60,
      everyMinutes: 60,
      lagMinutes: 20,
    });
    assert.deepEqual(sim.failures, []);
    const rotation = sim.transitions.slice(1, 4);
    assert.deepEqual(
      rotation.map((t) => t.phase),
      ['trust-new', 'serve-new', 'stable'],
    );
    assert.deepEqual(
      rotation.map((t) => t.at - (rotation[0]?.at ?? 0)),
      [0, 60, 120],
    );
  });

  void it('fails when kubelet is slower than the rotation step (the invariant is real)', async () => {
    const sim = await simulate({
      validityMs: 90 * MINUTE,
      policy: { renewFraction: 1 / 3, stepMs: 3 * MINUTE },
      minutes: 120,
      everyMinutes: 1,
      lagMinutes: 8,
    });
    assert.ok(
      sim.failures.some((f) => f.endsWith('untrusted')),
      sim.failures.join('\n'),
    );
  });

  void it('replaces an unusable pair at once, starts over a trust-new whose next pair is lost, and rotates on --force', () => {
    const now = T0;
    const policy = { renewFraction: 1 / 3, stepMs: 10 * MINUTE };
    const [good, other] = [old, fresh];
    assert.equal(planRotation(undefined, NAMES, policy, now).kind, 'create');
    const mismatched: StoredCertificates = { serving: { ...good, key: other.key }, phase: 'stable' };
    assert.deepEqual(planRotation(mismatched, NAMES, policy, now), {
      kind: 'replace',
      reason: 'the key does not belong to the certificate',
    });
    const expired = planRotation({ serving: good, phase: 'stable' }, NAMES, policy, now + 61 * MINUTE);
    assert.equal(expired.kind, 'replace');
    const lost: StoredCertificates = { serving: good, phase: 'trust-new', since: now };
    assert.equal(planRotation(lost, NAMES, policy, now + MINUTE).kind, 'begin');
    assert.equal(planRotation({ serving: good, phase: 'stable' }, NAMES, policy, now).kind, 'keep');
    assert.equal(
      planRotation({ serving: good, phase: 'stable' }, NAMES, { ...policy, force: true }, now).kind,
      'begin',
    );
    const wider = planRotation(
      { serving: good, phase: 'stable' },
      { dnsNames: ['sidekick.other.svc'] },
      policy,
      now,
    );
    assert.deepEqual(wider, { kind: 'begin', reason: 'the certificate does not cover sidekick.other.svc' });
    const waiting = planRotation(
      { serving: good, phase: 'serve-new', since: now, previousCa: other.ca },
      NAMES,
      policy,
      now + MINUTE,
    );
    assert.deepEqual(waiting, { kind: 'wait', phase: 'serve-new', until: now + 10 * MINUTE });
  });

  void it('the caBundle of each phase: old and new while rotating, the new alone when stable', () => {
    const trustNew: StoredCertificates = { serving: old, phase: 'trust-new', since: T0, next: fresh };
    assert.equal(caBundle(trustNew), `${old.ca.trim()}\n${fresh.ca.trim()}`);
    const serveNew = applyRotation(trustNew, { kind: 'advance', to: 'serve-new' }, T0 + 1);
    assert.ok(serveNew);
    assert.deepEqual(serveNew.serving, fresh);
    assert.equal(caBundle(serveNew), `${old.ca.trim()}\n${fresh.ca.trim()}`);
    const stable = applyRotation(serveNew, { kind: 'advance', to: 'stable' }, T0 + 2);
    assert.ok(stable);
    assert.equal(caBundle(stable), fresh.ca.trim());
    assert.equal(stable.previousCa, undefined);
  });

  void it('the Secret keeps the state: phase and since as annotations, the next pair and previous CA as keys', () => {
    for (const stored of [
      { serving: old, phase: 'trust-new', since: T0, next: fresh },
      { serving: fresh, phase: 'serve-new', since: T0, previousCa: old.ca },
      { serving: fresh, phase: 'stable', since: T0 },
    ] satisfies StoredCertificates[]) {
      const content = encodeSecret(stored);
      assert.equal(content.annotations[PHASE_ANNOTATION], stored.phase);
      assert.deepEqual(decodeSecret('s', content.data, content.annotations), { ok: true, stored });
    }
    assert.deepEqual(Object.keys(encodeSecret({ serving: fresh, phase: 'stable' }).data).sort(), [
      'ca.crt',
      'tls.crt',
      'tls.key',
    ]);
    // A Secret from before phases existed is stable.
    const legacy = encodeSecret({ serving: old, phase: 'stable' }).data;
    assert.deepEqual(decodeSecret('s', legacy, undefined), {
      ok: true,
      stored: { serving: old, phase: 'stable' },
    });
    const broken = decodeSecret('sidekick/sidekick-tls', { 'tls.crt': legacy['tls.crt'] ?? '' }, {});
    assert.deepEqual(broken, {
      ok: false,
      problem: 'Secret sidekick/sidekick-tls lacks ca.crt, tls.crt or tls.key',
    });
  });

  it('a bundle of the old and the new CA verifies a certificate of either in Node TLS (distinct CA subjects)', async () => {
    const names = {
      dnsNames: ['sidekick-relay.sidekick.svc'],
      ipAddresses: ['127.0.0.1'],
      validityMs: 3_600_000,
    };
    const older = await generateServingCertificate(names);
    const newer = await generateServingCertificate(names);
    assert.notEqual(new X509Certificate(older.ca.cert).subject, new X509Certificate(newer.ca.cert).subject);
    const bundle = `${older.ca.cert}\n${newer.ca.cert}`;
    for (const served of [older, newer]) {
      const server = createServer({ cert: served.cert, key: served.key });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        await new Promise<void>((resolve, reject) => {
          const socket = connect({
            host: '127.0.0.1',
            port,
            ca: bundle,
            servername: 'sidekick-relay.sidekick.svc',
          });
          socket.once('secureConnect', () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
