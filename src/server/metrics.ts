import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionDecision } from '../admission/index.js';
import { VERSION } from '../identity.js';

/** Admission latency is sub-millisecond when nothing is injected; the buckets start there. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface Metrics {
  registry: Registry;
  admissions: Counter<'result'>;
  latency: Histogram<'result'>;
  sidecarsInjected: Counter<'sidecar'>;
  templateReloads: Counter<'result'>;
  templatesLoaded: Gauge;
  buildInfo: Gauge<'version' | 'templates_hash'>;
  tlsReloads: Counter<'result'>;
  certificateExpiry: Gauge;
  certificateNotBefore: Gauge;
  tlsLastReloadSuccessful: Gauge;
  templatesLastReloadSuccessful: Gauge;
}

/** A private registry per server, so that several servers can live in one process (tests). */
export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    admissions: new Counter({
      name: 'sidekick_admissions_total',
      help: 'Admission reviews answered, by result',
      labelNames: ['result'],
      registers,
    }),
    latency: new Histogram({
      name: 'sidekick_admission_duration_seconds',
      help: 'Time from the request reaching the server to the answer being written, by result',
      labelNames: ['result'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    sidecarsInjected: new Counter({
      name: 'sidekick_sidecars_injected_total',
      help: 'Sidecars injected into Pods (dry runs excluded), by template name',
      labelNames: ['sidecar'],
      registers,
    }),
    templateReloads: new Counter({
      name: 'sidekick_template_reloads_total',
      help: 'Loads of the template directory, by result (success or error)',
      labelNames: ['result'],
      registers,
    }),
    templatesLoaded: new Gauge({
      name: 'sidekick_templates_loaded',
      help: 'Templates in the set in use',
      registers,
    }),
    buildInfo: new Gauge({
      name: 'sidekick_build_info',
      help: 'Always 1: the version running and the hash of the template set in use',
      labelNames: ['version', 'templates_hash'],
      registers,
    }),
    tlsReloads: new Counter({
      name: 'sidekick_tls_reloads_total',
      help: 'Loads of the serving certificate and key, by result (success or error)',
      labelNames: ['result'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: 'sidekick_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the serving certificate in use, in Unix seconds',
      registers,
    }),
    certificateNotBefore: new Gauge({
      name: 'sidekick_tls_certificate_not_before_timestamp_seconds',
      help: 'notBefore of the serving certificate in use, in Unix seconds',
      registers,
    }),
    // Alerts on these rather than on a rate of errors: a failure stays visible until fixed.
    tlsLastReloadSuccessful: new Gauge({
      name: 'sidekick_tls_last_reload_successful',
      help: '1 when the last read of the certificate and key files was accepted, 0 when it was rejected',
      registers,
    }),
    templatesLastReloadSuccessful: new Gauge({
      name: 'sidekick_templates_last_reload_successful',
      help: '1 when the last load of the template directory was accepted, 0 when it was rejected',
      registers,
    }),
  };
  // Series exist from the start, so that rate() and alerts see a 0 rather than nothing.
  for (const result of DECISIONS) metrics.admissions.inc({ result }, 0);
  // No set yet (or none ever loads): the version is known all the same.
  metrics.buildInfo.set({ version: VERSION, templates_hash: '' }, 1);
  for (const counter of [metrics.templateReloads, metrics.tlsReloads]) {
    counter.inc({ result: 'success' }, 0);
    counter.inc({ result: 'error' }, 0);
  }
  return metrics;
}

const DECISIONS: readonly AdmissionDecision[] = [
  'injected',
  'unchanged',
  'skipped',
  'ignored',
  'refused',
  'invalid',
  'errored',
  'checked',
  'denied',
];

/** One series only: the old hash's goes when a reload brings another set. */
export function recordTemplateSet(metrics: Metrics, hash: string): void {
  metrics.buildInfo.reset();
  metrics.buildInfo.set({ version: VERSION, templates_hash: hash }, 1);
}

export function recordAdmission(
  metrics: Metrics,
  result: AdmissionDecision,
  seconds: number,
  injected: readonly string[],
): void {
  metrics.admissions.inc({ result });
  metrics.latency.observe({ result }, seconds);
  for (const sidecar of injected) metrics.sidecarsInjected.inc({ sidecar });
}
