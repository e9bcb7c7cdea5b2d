import fc from 'fast-check';
import type { Json, JsonObject } from '../../../src/json.js';
import { podVolumeName } from '../../../src/templates/names.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { annotationParts, type AnnotationPart, type ValuePart } from './annotations.js';
import { dnsLabel, hostileString, nameFrom, objectOf } from './strings.js';

const VOLUME_KINDS = [
  'emptyDir',
  'configMap',
  'secret',
  'projected',
  'token',
  'hostPath',
  'pvc',
  'downwardAPI',
  'none',
] as const;
type VolumeKind = (typeof VOLUME_KINDS)[number];

interface VolumePart {
  name: string;
  kind: VolumeKind;
  extra: [string, Json][];
}

interface MountPart {
  /** Index into the Pod's volumes, or a name of its own (often dangling). */
  volume: number | string;
  mountPath: string;
  subPath: string | undefined;
  readOnly: boolean | undefined;
}

interface ContainerPart {
  name: string | undefined;
  image: string | undefined;
  env: { name: string; value: string }[] | undefined;
  mounts: MountPart[] | undefined;
  securityContext: JsonObject | undefined;
  restartPolicy: string | undefined;
  extra: [string, Json][];
}

/** Pods that are not Pods: what the core must refuse or skip without throwing. */
type Broken = 'none' | 'noSpec' | 'containersNotList' | 'itemsNotObjects' | 'annotationsNotMap';
const broken: fc.Arbitrary<Broken> = fc.oneof(
  { arbitrary: fc.constant<Broken>('none'), weight: 40 },
  {
    arbitrary: fc.constantFrom<Broken>('noSpec', 'containersNotList', 'itemsNotObjects', 'annotationsNotMap'),
    weight: 1,
  },
);

export interface PodParts {
  name: { name?: string; generateName?: string };
  volumes: VolumePart[];
  containers: ContainerPart[];
  initContainers: ContainerPart[] | undefined;
  annotations: AnnotationPart[];
  shareProcessNamespace: boolean | undefined;
  hostPID: boolean | undefined;
  /** The Pod's own securityContext.runAsUser: the usual way a Pod gives its containers one UID. */
  podRunAsUser: number | undefined;
  extraSpec: [string, Json][];
  extraMetadata: [string, Json][];
  broken: Broken;
}

const leaf: fc.Arbitrary<Json> = fc.oneof(hostileString, fc.integer(), fc.boolean(), fc.constant(null));
const extraKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'x-custom', 'terminationMessagePath'),
  hostileString,
);
const extras = fc.array(fc.tuple(extraKey, leaf), { maxLength: 2 });

/** `arb` in `percent` of the cases, absent otherwise. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent = 50): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - percent }, { arbitrary: arb, weight: percent });

const MOUNT_PATHS = ['/config', '/data', '/tmp', '/etc/app', '/cache', '/srv', '/certs', '/home/app'];
/** Where the templates mount by default: a collision, refused. */
const TAKEN_PATHS = ['/var/log/app', '/vault/secrets', '/sidekick/logs'];

const mount: fc.Arbitrary<MountPart> = fc.record(
  {
    volume: fc.oneof({ arbitrary: fc.nat(7), weight: 40 }, { arbitrary: nameFrom(['gone']), weight: 1 }),
    mountPath: fc.oneof(
      { arbitrary: fc.constantFrom(...MOUNT_PATHS), weight: 30 },
      { arbitrary: fc.constantFrom(...TAKEN_PATHS), weight: 1 },
      { arbitrary: hostileString, weight: 1 },
    ),
    subPath: sometimes(fc.constantFrom('config.yaml', 'a/b', '..'), 15),
    readOnly: sometimes(fc.boolean()),
  },
  { noNullPrototype: true },
);

const securityContext: fc.Arbitrary<JsonObject> = fc
  .tuple(
    sometimes(fc.integer({ min: 0, max: 70_000 })),
    sometimes(fc.boolean()),
    sometimes(fc.constantFrom<string[]>(['SYS_ADMIN'], ['NET_ADMIN', 'NET_RAW'])),
    sometimes(fc.boolean()),
  )
  .map(([runAsUser, privileged, add, runAsNonRoot]) =>
    objectOf<Json>([
      ['runAsUser', runAsUser],
      ['privileged', privileged],
      ['capabilities', add === undefined ? undefined : { add, drop: ['ALL'] }],
      ['runAsNonRoot', runAsNonRoot],
    ]),
  );

function container(
  names: readonly string[],
  colliding: readonly string[],
  init: boolean,
): fc.Arbitrary<ContainerPart> {
  return fc.record(
    {
      name: fc.oneof(
        { arbitrary: nameFrom(names, colliding), weight: 20 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
      image: sometimes(
        fc.oneof(fc.constantFrom('nginx:1.27', 'busybox', 'ghcr.io/acme/app@sha256:0'), hostileString),
        90,
      ),
      env: sometimes(
        fc.array(
          fc.record(
            { name: nameFrom(['HOME', 'PORT', 'VAULT_ADDR']), value: hostileString },
            { noNullPrototype: true },
          ),
          {
            maxLength: 3,
          },
        ),
      ),
      mounts: sometimes(fc.array(mount, { maxLength: 3 }), 67),
      securityContext: sometimes(securityContext, 40),
      restartPolicy: init
        ? sometimes(fc.oneof(fc.constant('Always'), fc.constant('OnFailure'), hostileString))
        : fc.constant(undefined),
      extra: extras,
    },
    { noNullPrototype: true },
  );
}

function volume(names: readonly string[], colliding: readonly string[]): fc.Arbitrary<VolumePart> {
  return fc.record(
    {
      name: nameFrom(names, colliding),
      kind: fc.constantFrom(...VOLUME_KINDS),
      extra: fc.array(fc.tuple(extraKey, leaf), { maxLength: 1 }),
    },
    { noNullPrototype: true },
  );
}

/** Names that collide with what the templates add, on purpose. */
function templateNames(templates: TemplateSet): { sidecars: string[]; volumes: string[] } {
  const list = [...templates.templates.values()];
  return {
    sidecars: list.map((t) => t.name),
    volumes: list.flatMap((t) =>
      t.volumes.map((v) => podVolumeName(t.name, typeof v.name === 'string' ? v.name : '')),
    ),
  };
}

/** Mostly with names used once, as the apiserver requires; sometimes not. */
function listOf<T extends { name: string | undefined }>(
  arb: fc.Arbitrary<T>,
  minLength: number,
  maxLength: number,
): fc.Arbitrary<T[]> {
  return fc.oneof(
    { arbitrary: fc.uniqueArray(arb, { selector: (x) => x.name, minLength, maxLength }), weight: 15 },
    { arbitrary: fc.array(arb, { minLength, maxLength }), weight: 1 },
  );
}

export function podParts(templates: TemplateSet): fc.Arbitrary<PodParts> {
  const ours = templateNames(templates);
  const containerNames = ['app', 'web', 'worker', 'api', 'metrics'];
  const initNames = ['migrate', 'setup', 'istio-proxy', 'wait'];
  const volumeNames = ['config', 'certs', 'data', 'cache', 'tls'];
  return fc.record(
    {
      name: fc.oneof(
        dnsLabel.map((name) => ({ name })),
        dnsLabel.map((generateName) => ({ generateName: `${generateName}-` })),
        hostileString.map((name) => ({ name })),
        fc.constant({}),
      ),
      volumes: listOf(volume(volumeNames, ours.volumes), 0, 4),
      containers: listOf(container(containerNames, ours.sidecars, false), 1, 3),
      initContainers: sometimes(listOf(container(initNames, ours.sidecars, true), 0, 3), 67),
      annotations: annotationParts(templates),
      shareProcessNamespace: sometimes(fc.boolean(), 15),
      hostPID: sometimes(fc.boolean(), 10),
      podRunAsUser: sometimes(fc.constantFrom(1000, 10001, 65532), 50),
      extraSpec: fc.array(
        fc.tuple(fc.constantFrom('__proto__', 'constructor', 'hostNetwork', 'nodeName', 'toString'), leaf),
        { maxLength: 1 },
      ),
      extraMetadata: fc.array(fc.tuple(extraKey, leaf), { maxLength: 1 }),
      broken,
    },
    { noNullPrototype: true },
  );
}

function volumeSource(kind: VolumeKind, name: string): [string, Json] | undefined {
  switch (kind) {
    case 'emptyDir':
      return ['emptyDir', {}];
    case 'configMap':
      return ['configMap', { name }];
    case 'secret':
      return ['secret', { secretName: name }];
    case 'projected':
      return ['projected', { sources: [{ configMap: { name } }, { secret: { name } }] }];
    case 'token':
      return [
        'projected',
        { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name } }] },
      ];
    case 'hostPath':
      return ['hostPath', { path: '/var/run' }];
    case 'pvc':
      return ['persistentVolumeClaim', { claimName: name }];
    case 'downwardAPI':
      return ['downwardAPI', { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] }];
    case 'none':
      return undefined;
  }
}

function assembleVolume(part: VolumePart): JsonObject {
  const source = volumeSource(part.kind, part.name);
  return objectOf<Json>([['name', part.name], ...(source ? [source] : []), ...part.extra]);
}

function assembleContainer(part: ContainerPart, volumes: readonly VolumePart[]): JsonObject {
  const mounts = part.mounts?.map((m) =>
    objectOf<Json>([
      [
        'name',
        typeof m.volume === 'number'
          ? (volumes[m.volume % Math.max(volumes.length, 1)]?.name ?? 'gone')
          : m.volume,
      ],
      ['mountPath', m.mountPath],
      ['subPath', m.subPath],
      ['readOnly', m.readOnly],
    ]),
  );
  return objectOf<Json>([
    ['name', part.name],
    ['image', part.image],
    ['env', part.env],
    ['volumeMounts', mounts],
    ['securityContext', part.securityContext],
    ['restartPolicy', part.restartPolicy],
    ...part.extra,
  ]);
}

function pickNames(names: readonly string[], indexes: readonly number[]): string[] {
  if (names.length === 0) return indexes.map(() => 'nothing');
  return indexes.map((i) => names[i % names.length] ?? 'nothing');
}

function assembleValue(
  value: ValuePart,
  pod: { volumes: string[]; containers: string[]; init: string[] },
): string {
  if ('text' in value) return value.text;
  const names = pickNames(pod[value.pick === 'init' ? 'init' : value.pick], value.indexes);
  return value.status ? JSON.stringify({ sidecars: names, templates: '0' }) : names.join(value.separator);
}

function assembleAnnotations(parts: PodParts, prefix: string): JsonObject {
  const names = (list: readonly { name: string | undefined }[] | undefined): string[] =>
    (list ?? []).map((c) => c.name ?? '');
  const pod = {
    volumes: parts.volumes.map((v) => v.name),
    containers: names(parts.containers),
    init: names(parts.initContainers),
  };
  return objectOf<Json>(
    parts.annotations.map((a) => [
      'local' in a.key ? `${prefix}/${a.key.local}` : a.key.full,
      assembleValue(a.value, pod),
    ]),
  );
}

/** The raw Pod JSON: only own data keys and JSON values, so it survives a JSON round trip. */
export function assemblePod(parts: PodParts, prefix: string, namespace: string | undefined): JsonObject {
  const annotations: Json =
    parts.broken === 'annotationsNotMap' ? ['not', 'a', 'map'] : assembleAnnotations(parts, prefix);
  const metadata = objectOf<Json>([
    ...Object.entries(parts.name),
    ['namespace', namespace],
    ['labels', { app: 'web' }],
    ['annotations', annotations],
    ...parts.extraMetadata,
  ]);
  const containers = parts.containers.map((c) => assembleContainer(c, parts.volumes));
  const spec = objectOf<Json>([
    [
      'containers',
      parts.broken === 'containersNotList'
        ? { app: containers[0] ?? null }
        : parts.broken === 'itemsNotObjects'
          ? [...containers, 'app', null, 7]
          : containers,
    ],
    ['initContainers', parts.initContainers?.map((c) => assembleContainer(c, parts.volumes))],
    ['volumes', parts.volumes.length > 0 ? parts.volumes.map(assembleVolume) : undefined],
    ['shareProcessNamespace', parts.shareProcessNamespace],
    ['hostPID', parts.hostPID],
    ['securityContext', parts.podRunAsUser === undefined ? undefined : { runAsUser: parts.podRunAsUser }],
    ...parts.extraSpec,
  ]);
  return objectOf<Json>([
    ['apiVersion', 'v1'],
    ['kind', 'Pod'],
    ['metadata', metadata],
    ['spec', parts.broken === 'noSpec' ? undefined : spec],
  ]);
}
