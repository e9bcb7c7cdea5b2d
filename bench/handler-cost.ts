// In-process cost of the admission handler by Pod size, next to the floor every webhook pays
// (JSON.parse + JSON.stringify of the same review). Runs in its own process, one JSON line out.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type * as Admission from '../src/admission/index.js';
import type * as TemplatesLoad from '../src/templates/load.js';
import { isObject, type JsonObject } from '../src/json.js';
import {
  containersReview,
  deploymentReview,
  distinctDeploymentTexts,
  envReview,
  SIDECARS,
} from './reviews.js';
import { summarize, type Summary } from './stats.js';

export interface HandlerCostConfig {
  /** The compiled tree whose handler is measured (dist/ of this checkout, or another one to compare). */
  dist: string;
  sizes: number[];
  /** Time given to each review, warm-up included, and the most iterations it may take. */
  budgetMs: number;
  maxIterations: number;
}

export interface CostRow {
  /** `distinct`: the Deployment Pod with new parameter values each time (no shared rendering). */
  series: 'deployment' | 'distinct' | 'env' | 'containers';
  size: number;
  bytes: number;
  iterations: number;
  /** JSON.parse + JSON.stringify of the review. */
  floorMs: Summary;
  /** handleReview on the parsed review. */
  handlerMs: Summary;
  /** JSON.parse + handleReview + JSON.stringify of the answer: all a request costs in-process. */
  totalMs: Summary;
  /**
   * The same, over the iterations during which no other process took the CPU (no involuntary
   * context switch): on a shared machine the tail otherwise measures the neighbours.
   */
  totalUnpreemptedMs: Summary;
  preempted: number;
}

async function loadModules(
  dist: string,
): Promise<{ admission: typeof Admission; load: typeof TemplatesLoad }> {
  const url = (path: string): string => pathToFileURL(join(dist, path)).href;
  const admission: unknown = await import(url('src/admission/index.js'));
  const load: unknown = await import(url('src/templates/load.js'));
  if (!isObject(admission) || typeof admission.handleReview !== 'function') {
    throw new Error(`${dist}: no handleReview`);
  }
  if (!isObject(load) || typeof load.loadTemplateDir !== 'function')
    throw new Error(`${dist}: no loadTemplateDir`);
  // Both were checked for the functions used below.
  return {
    admission: admission as unknown as typeof Admission,
    load: load as unknown as typeof TemplatesLoad,
  };
}

type Handle = (body: unknown) => Admission.HandledReview;
type Serialize = (review: Admission.AdmissionReview) => string;

function checkInjects(handle: Handle, text: string, what: string): void {
  const handled = handle(JSON.parse(text));
  if (handled.status !== 200 || handled.record.decision !== 'injected') {
    throw new Error(
      `${what}: expected an injection, got ${handled.record.decision}: ${handled.record.message ?? ''}`,
    );
  }
  const missing = SIDECARS.filter((s) => !handled.record.sidecars.includes(s));
  if (missing.length > 0) throw new Error(`${what}: ${missing.join(', ')} not injected`);
}

/** `texts` are measured in turn (one text, or variants that must not share renderings). */
function measure(
  handle: Handle,
  serialize: Serialize,
  texts: readonly string[],
  config: HandlerCostConfig,
): Omit<CostRow, 'series' | 'size'> {
  const floor: number[] = [];
  const handler: number[] = [];
  const total: number[] = [];
  const unpreempted: number[] = [];
  let preempted = 0;
  const switches = (): number => process.resourceUsage().involuntaryContextSwitches;
  const start = performance.now();
  const warmUntil = start + config.budgetMs * 0.2;
  const end = start + config.budgetMs;
  let sink = 0;
  for (let i = 0; performance.now() < end && floor.length < config.maxIterations; i++) {
    const text = texts[i % texts.length] ?? '';
    // Interleaved, so that whatever else the machine does weighs on all three alike.
    const switchesBefore = switches();
    const t0 = performance.now();
    sink += JSON.stringify(JSON.parse(text)).length;
    const t1 = performance.now();
    const body: unknown = JSON.parse(text);
    const t2 = performance.now();
    const handled = handle(body);
    const t3 = performance.now();
    sink += handled.status === 200 ? serialize(handled.review).length : 0;
    const t4 = performance.now();
    const wasPreempted = switches() !== switchesBefore;
    if (t0 < warmUntil && i < config.maxIterations / 5) continue;
    floor.push(t1 - t0);
    handler.push(t3 - t2);
    total.push(t4 - t1);
    if (wasPreempted) preempted++;
    else unpreempted.push(t4 - t1);
  }
  if (sink === 0) throw new Error('nothing was serialised');
  return {
    bytes: Buffer.byteLength(texts[0] ?? ''),
    iterations: floor.length,
    floorMs: summarize(floor),
    handlerMs: summarize(handler),
    totalMs: summarize(total),
    totalUnpreemptedMs: summarize(unpreempted),
    preempted,
  };
}

export async function handlerCosts(config: HandlerCostConfig): Promise<CostRow[]> {
  const { admission, load } = await loadModules(config.dist);
  const templates = await load.loadTemplateDir(load.builtinTemplateDir());
  if (!templates.ok) throw new Error(`templates: ${templates.problems.join('; ')}`);
  const deps = { templates: () => templates.set };
  const handle: Handle = (body) => admission.handleReview(body, deps);
  // The server's serialiser; a build from before it had none and used JSON.stringify.
  const serialize: Serialize =
    typeof admission.serializeReview === 'function' ? admission.serializeReview : JSON.stringify;
  const one = (review: JsonObject): string[] => [JSON.stringify(review)];
  const cases: { series: CostRow['series']; size: number; texts: string[] }[] = [
    { series: 'deployment', size: 1, texts: one(deploymentReview()) },
    { series: 'distinct', size: 1, texts: distinctDeploymentTexts() },
    ...config.sizes.map((size) => ({ series: 'env' as const, size, texts: one(envReview(size)) })),
    ...config.sizes.map((size) => ({
      series: 'containers' as const,
      size,
      texts: one(containersReview(size)),
    })),
  ];
  const rows: CostRow[] = [];
  for (const { series, size, texts } of cases) {
    for (const text of texts.slice(0, 3)) checkInjects(handle, text, `${series} ${size}`);
    rows.push({ series, size, ...measure(handle, serialize, texts, config) });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const parsed: unknown = JSON.parse(process.argv[2] ?? '');
  if (!isObject(parsed) || typeof parsed.dist !== 'string' || !Array.isArray(parsed.sizes)) {
    throw new Error('usage: handler-cost.js <HandlerCostConfig JSON>');
  }
  const config: HandlerCostConfig = {
    dist: parsed.dist,
    sizes: parsed.sizes.filter((s): s is number => typeof s === 'number'),
    budgetMs: typeof parsed.budgetMs === 'number' ? parsed.budgetMs : 2000,
    maxIterations: typeof parsed.maxIterations === 'number' ? parsed.maxIterations : 20_000,
  };
  process.stdout.write(`${JSON.stringify(await handlerCosts(config))}\n`);
}
