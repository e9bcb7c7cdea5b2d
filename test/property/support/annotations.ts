import fc from 'fast-check';
import { BUILTIN_AFTER, BUILTIN_CONTAINERS } from '../../../src/templates/names.js';
import type { ParameterSpec, SidecarTemplate, TemplateSet } from '../../../src/templates/types.js';
import { canonicalQuantity, quantityOf } from '../../../src/templates/quantity.js';
import { isResourceParameter } from '../../../src/templates/resource-bounds.js';
import { hostileString } from './strings.js';

/**
 * An annotation value before it is placed on a Pod: literal text, or names picked from the
 * Pod's own volumes, app containers or init containers (so that `volumes`, `containers` and
 * `after` name things that exist often enough to inject).
 */
export type ValuePart =
  | { text: string }
  | { pick: 'volumes' | 'containers' | 'init'; indexes: number[]; separator: string; status?: boolean };

/** `local` keys go under the case's prefix; `full` keys are used as they are. */
export type KeyPart = { local: string } | { full: string };

export interface AnnotationPart {
  key: KeyPart;
  value: ValuePart;
}

/** Realistic values, so that a good share of the generated Pods is actually injected. */
const DICTIONARY: Record<string, readonly string[]> = {
  'db-proxy.instance': [
    'my-project:us-central1:orders',
    'example.com:shop-prod:europe-west1:db',
    'my-project:us-central1:orders=5432, my-project:us-central1:users=6543',
  ],
  'db-proxy.credentials-secret': ['cloudsql-key', 'db.credentials'],
  'vault-agent.role': ['web', 'orders-reader'],
  'vault-agent.secret': ['secret/data/web', 'database/creds/ro'],
  'vault-agent.address': ['https://vault.vault.svc:8200', 'http://[::1]:8200'],
  'vault-agent.ca-secret': ['vault-ca'],
  'vault-agent.secrets': ['db.json=database/creds/ro', 'a.json=secret/data/a, b.json=secret/data/b'],
  'vault-agent.templates': ['app.env=app.env.ctmpl'],
  'vault-agent.namespace': ['admin', 'admin/team-a/'],
  'otel-collector.endpoint': [
    'otel-gateway.observability:4317',
    'https://otlp.example.com:443',
    'http://10.0.0.7:4317',
    'https://api.honeycomb.io',
    'http://[::1]/otlp',
  ],
  'otel-collector.headers': ['x-honeycomb-team=api-key', 'api-key=key, x-dataset=dataset'],
  'otel-collector.headers-secret': ['honeycomb', 'otlp.auth'],
  'log-shipper.path': ['/var/log/app', '/logs', '/config'],
  'log-shipper.output': [
    'stdout',
    'forward://fluentd.logging:24224',
    'http://logs.example.com:8080/in',
    'loki://loki.monitoring',
    'es://elasticsearch.logging:9200',
  ],
  'log-shipper.multiline': ['java', 'go, python'],
  'log-shipper.labels': ['job=web', 'job=web, env=prod'],
  'git-sync.repo': [
    'https://github.com/example/web-config.git',
    'git@github.com:example/web-config.git',
    'ssh://git@git.example.com:2222/platform/config',
  ],
  'git-sync.ref': ['HEAD', 'main', 'release/v1.2', 'refs/tags/v2.0.0'],
  'git-sync.path': ['/git', '/etc/app/config'],
  'git-sync.credentials-secret': ['git-creds'],
  'config-watcher.process': ['nginx', '/usr/sbin/nginx'],
  'config-watcher.url': ['http://127.0.0.1:9090/-/reload', 'http://[::1]:8080/reload?now=1'],
};

const DURATIONS = ['0', '0s', '1s', '500ms', '1m30s', '2h', '1.5s'];
const QUANTITIES = ['50m', '100m', '0.25', '1', '64Mi', '256Mi', '1Gi', '0.5Gi', '1e3', '300M'];
const QUANTITY_SUFFIXES = ['', 'n', 'u', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'e3', 'E-2', 'e+6'];

/** Quantities in every notation, most of them far outside any template's bounds. */
export const quantityText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...QUANTITIES),
  fc
    .tuple(
      fc.constantFrom('', '', '+', '-'),
      fc.nat(5000),
      fc.option(fc.nat(999), { nil: undefined }),
      fc.constantFrom(...QUANTITY_SUFFIXES),
    )
    .map(
      ([sign, whole, fraction, suffix]) =>
        `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}${suffix}`,
    ),
);
const BOOLEANS = ['true', 'false', 'True', 'FALSE'];
const SEPARATORS = [',', ', ', ' , ', ',,'];

function patternOf(spec: ParameterSpec): RegExp | undefined {
  return spec.pattern === undefined ? undefined : new RegExp(`^(?:${spec.pattern})$`);
}

function matching(spec: ParameterSpec, key: string): fc.Arbitrary<string> {
  const pattern = patternOf(spec);
  const words = DICTIONARY[key] ?? [];
  const generated = pattern ? fc.stringMatching(pattern) : hostileString;
  return words.length > 0 ? fc.oneof(fc.constantFrom(...words), generated) : generated;
}

function picks(pick: 'volumes' | 'containers' | 'init', max: number): fc.Arbitrary<ValuePart> {
  return fc.record(
    {
      pick: fc.constant(pick),
      indexes: fc.array(fc.nat(5), { minLength: 1, maxLength: max }),
      separator: fc.constantFrom(...SEPARATORS),
    },
    { noNullPrototype: true },
  );
}

/** A value the parameter accepts. */
function validValue(template: SidecarTemplate, spec: ParameterSpec): fc.Arbitrary<ValuePart> {
  const key = `${template.name}.${spec.name}`;
  const text = (arb: fc.Arbitrary<string>): fc.Arbitrary<ValuePart> => arb.map((t) => ({ text: t }));
  if (spec.name === BUILTIN_AFTER) return picks('init', 1);
  if (spec.name === BUILTIN_CONTAINERS) return picks('containers', 2);
  if (template.podVolumeMounts?.parameter === spec.name) return picks('volumes', 2);
  switch (spec.type) {
    case 'integer':
      return text(fc.integer({ min: spec.minimum ?? -1000, max: spec.maximum ?? 100_000 }).map(String));
    case 'boolean':
      return text(fc.constantFrom(...BOOLEANS));
    case 'duration':
      return text(fc.constantFrom(...DURATIONS));
    case 'enum':
      return text(
        fc.constantFrom(...(spec.values ?? ['x']), ...(spec.values ?? []).map((v) => v.toLowerCase())),
      );
    case 'list':
      return text(
        fc
          .tuple(
            fc.array(matching(spec, key), { minLength: 1, maxLength: 3 }),
            fc.constantFrom(...SEPARATORS),
          )
          .map(([items, sep]) => items.join(sep)),
      );
    case 'string':
      return text(matching(spec, key));
    case 'quantity':
      return text(spec.quantityMinimum === undefined ? quantityText : quantityWithin(spec));
  }
}

/** A quantity inside the parameter's bounds, in one notation or another. */
function quantityWithin(spec: ParameterSpec): fc.Arbitrary<string> {
  const lo = quantityOf(spec.quantityMinimum ?? '0').nanos;
  const hi = quantityOf(spec.quantityMaximum ?? spec.quantityMinimum ?? '0').nanos;
  const between = fc.bigInt({ min: lo, max: hi });
  return fc.oneof(
    fc.constantFrom(spec.quantityMinimum ?? '0', spec.quantityMaximum ?? '0'),
    between.map((n) => canonicalQuantity({ nanos: n, format: 'DecimalSI' })),
    between.map((n) => `${n}n`),
    between.map((n) => `${n / 10n ** 6n + 1n}m`).filter((t) => quantityOf(t).nanos <= hi),
  );
}

/** A value that may well not fit: hostile text, or a valid one with something attached. */
function hostileValue(template: SidecarTemplate, spec: ParameterSpec): fc.Arbitrary<ValuePart> {
  const near = fc
    .tuple(validValue(template, spec), hostileString, fc.boolean())
    .map(([valid, extra, before]): ValuePart => {
      if (!('text' in valid)) return valid;
      return { text: before ? `${extra}${valid.text}` : `${valid.text}${extra}` };
    });
  return fc.oneof(
    hostileString.map((t): ValuePart => ({ text: t })),
    near,
    fc.constantFrom<ValuePart>({ text: ' ' }, { text: '' }, { text: '99999999999999999999' }, { text: '-5' }),
  );
}

function inGroup(template: SidecarTemplate, spec: ParameterSpec): boolean {
  return template.exactlyOneOf.some((group) => group.includes(spec.name));
}

/** Parameters of which exactly one must be set: usually exactly one is, sometimes none or all. */
function groupAnnotations(
  template: SidecarTemplate,
  group: readonly string[],
): fc.Arbitrary<AnnotationPart[]> {
  const specs = group.flatMap((name) => template.parameters.filter((p) => p.name === name));
  const one = (spec: ParameterSpec): fc.Arbitrary<AnnotationPart[]> => {
    const key = { local: `${template.name}.${spec.name}` };
    return fc
      .oneof(
        { arbitrary: validValue(template, spec), weight: 92 },
        { arbitrary: hostileValue(template, spec), weight: 8 },
      )
      .map((value) => [{ key, value }]);
  };
  if (specs.length === 0) return fc.constant<AnnotationPart[]>([]);
  return fc.oneof(
    { arbitrary: fc.oneof(...specs.map(one)), weight: 85 },
    { arbitrary: fc.constant<AnnotationPart[]>([]), weight: 8 },
    { arbitrary: fc.tuple(...specs.map(one)).map((parts) => parts.flat()), weight: 7 },
  );
}

/** Out of 100: how often a parameter is absent, valid, or hostile. */
function odds(template: SidecarTemplate, spec: ParameterSpec): [number, number, number] {
  // Required and exactly-one-of parameters are set more often, so that injection succeeds often;
  // `after` rarely, as most Pods have no init container to name.
  if (spec.required) return [4, 88, 8];
  if (spec.name === BUILTIN_AFTER) return [92, 5, 3];
  // Four per template, and a request above its limit is refused: set now and then.
  if (isResourceParameter(spec.name)) return [196, 3, 1];
  return [70, 25, 5];
}

function parameterAnnotation(template: SidecarTemplate, spec: ParameterSpec): fc.Arbitrary<AnnotationPart[]> {
  const [absent, valid, hostile] = odds(template, spec);
  const key = { local: `${template.name}.${spec.name}` };
  return fc.oneof(
    { arbitrary: fc.constant<AnnotationPart[]>([]), weight: absent },
    { arbitrary: validValue(template, spec).map((value) => [{ key, value }]), weight: valid },
    { arbitrary: hostileValue(template, spec).map((value) => [{ key, value }]), weight: hostile },
  );
}

function injectAnnotation(names: readonly string[]): fc.Arbitrary<AnnotationPart[]> {
  const name = fc.oneof(
    { arbitrary: fc.constantFrom(...names), weight: 40 },
    { arbitrary: fc.constantFrom('db_proxy', 'logshipper', 'DB-PROXY', 'sidekick', 'inject'), weight: 1 },
    { arbitrary: hostileString, weight: 1 },
  );
  const listed = fc
    .tuple(fc.array(name, { minLength: 1, maxLength: 3 }), fc.constantFrom(...SEPARATORS))
    .map(([list, sep]): AnnotationPart[] => [{ key: { local: 'inject' }, value: { text: list.join(sep) } }]);
  return fc.oneof(
    { arbitrary: listed, weight: 30 },
    { arbitrary: fc.constant<AnnotationPart[]>([]), weight: 1 },
    {
      arbitrary: fc.constant<AnnotationPart[]>([{ key: { local: 'inject' }, value: { text: ' , ' } }]),
      weight: 1,
    },
  );
}

function statusAnnotation(names: readonly string[]): fc.Arbitrary<AnnotationPart[]> {
  const listed = fc
    .array(fc.oneof(fc.constantFrom(...names), hostileString), { maxLength: 3 })
    .map((list): AnnotationPart[] => [
      { key: { local: 'status' }, value: { text: JSON.stringify({ sidecars: list, templates: '0' }) } },
    ]);
  const ofInit: fc.Arbitrary<AnnotationPart[]> = picks('init', 2).map((value) => [
    { key: { local: 'status' }, value: { ...value, status: true } },
  ]);
  const garbage = hostileString.map((t): AnnotationPart[] => [
    { key: { local: 'status' }, value: { text: t } },
  ]);
  return fc.oneof(
    { arbitrary: fc.constant<AnnotationPart[]>([]), weight: 14 },
    { arbitrary: listed, weight: 2 },
    { arbitrary: ofInit, weight: 1 },
    { arbitrary: garbage, weight: 1 },
  );
}

/** Keys under the prefix that sidekick does not know, and keys that are not sidekick's at all. */
function strayAnnotations(names: readonly string[]): fc.Arbitrary<AnnotationPart[]> {
  const local = fc.oneof(
    hostileString,
    fc.constantFrom(
      '__proto__',
      'constructor.instance',
      'db-proxy.__proto__',
      'db-proxy.instanse',
      'toString.x',
    ),
    fc.tuple(fc.constantFrom(...names), hostileString).map(([t, p]) => `${t}.${p}`),
  );
  const stray = fc.oneof(
    fc.record(
      { key: local.map((l): KeyPart => ({ local: l })), value: hostileString.map((t) => ({ text: t })) },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        key: fc
          .oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'inject.example.com/inject'))
          .map((f): KeyPart => ({ full: f })),
        value: hostileString.map((t) => ({ text: t })),
      },
      { noNullPrototype: true },
    ),
  );
  return fc.array(stray, { maxLength: 3 });
}

/** Annotation sets for the given templates: an inject list, parameters, stray keys, a status. */
export function annotationParts(templates: TemplateSet): fc.Arbitrary<AnnotationPart[]> {
  const list = [...templates.templates.values()];
  const names = list.map((t) => t.name);
  const parameters = list.flatMap((t) => [
    ...t.parameters.filter((p) => !inGroup(t, p)).map((p) => parameterAnnotation(t, p)),
    ...t.exactlyOneOf.map((group) => groupAnnotations(t, group)),
  ]);
  return fc
    .tuple(
      injectAnnotation(names),
      statusAnnotation(names),
      strayAnnotations(names),
      fc.tuple(...parameters),
      fc.boolean(),
    )
    .map(([inject, status, stray, params, reversed]) => {
      // Annotation order is the map's key order, which sidekick must not depend on.
      const all = [...inject, ...params.flat(), ...status, ...stray];
      return reversed ? all.reverse() : all;
    });
}
