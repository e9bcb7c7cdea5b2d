import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REFUSAL_REASONS, type RefusalReason } from './authorize.js';

/** From the change reaching the relay to its write on a subscriber's stream; pacing spreads it out. */
const PUSH_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

export interface RelayMetrics {
  registry: Registry;
  subscribers: Gauge;
  pushes: Counter<'kind'>;
  pushLatency: Histogram;
  refusals: Counter<'reason'>;
  watchEvents: Counter<'kind' | 'event'>;
  objects: Gauge;
  queued: Gauge;
}

export function createRelayMetrics(options: { processMetrics?: boolean } = {}): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const metrics: RelayMetrics = {
    registry,
    subscribers: new Gauge({
      name: 'sidekick_relay_subscribers',
      help: 'Open subscriber streams',
      registers,
    }),
    pushes: new Counter({
      name: 'sidekick_relay_pushes_total',
      help: 'Object events written to subscribers after their first content, by kind',
      labelNames: ['kind'],
      registers,
    }),
    pushLatency: new Histogram({
      name: 'sidekick_relay_push_latency_seconds',
      help: 'Time from a change reaching the relay to its write on a subscriber stream (pacing included)',
      buckets: PUSH_BUCKETS,
      registers,
    }),
    refusals: new Counter({
      name: 'sidekick_relay_refusals_total',
      help: 'Subscriptions refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    watchEvents: new Counter({
      name: 'sidekick_relay_watch_events_total',
      help: 'Watch (re)connections and failures of the relay informers, by kind and event',
      labelNames: ['kind', 'event'],
      registers,
    }),
    objects: new Gauge({ name: 'sidekick_relay_objects', help: 'Objects held from the watches', registers }),
    queued: new Gauge({
      name: 'sidekick_relay_queued_pushes',
      help: 'Pushes waiting for their pacing slot',
      registers,
    }),
  };
  for (const reason of REFUSAL_REASONS) metrics.refusals.inc({ reason: reason satisfies RefusalReason }, 0);
  return metrics;
}
