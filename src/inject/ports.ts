import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import { PLACEHOLDER } from '../templates/names.js';
import type { SidecarTemplate } from '../templates/types.js';
import { nameOf, objectsAt } from './pod.js';

/** One port a container listens on, as the Pod spec says. */
interface Listener {
  container: string;
  port: number;
  protocol: string;
  /** Declared in `ports` (certain), or only the target of one of its probes (likely). */
  declared: boolean;
  /** The port's name, when declared with one. */
  name?: string;
}

/** Where an injected sidecar's ports come from, for the fix a clash message suggests. */
export interface SidecarPorts {
  /** Ports written as numbers in the template: no parameter moves them. */
  fixed: ReadonlySet<number>;
  /** The annotations that set the sidecar's other ports (db-proxy's instances). */
  setBy: readonly string[];
}

/** containerPorts written as numbers, and the parameters the others (and how many) depend on. */
function collectPorts(tree: Json | undefined, fixed: Set<number>, params: Set<string>): void {
  if (isArray(tree)) {
    for (const item of tree) collectPorts(item, fixed, params);
    return;
  }
  if (!isObject(tree)) return;
  if (typeof tree.$each === 'string') params.add(tree.$each);
  const port = tree.containerPort;
  if (typeof port === 'number') fixed.add(port);
  else if (typeof port === 'string') for (const [, name = ''] of port.matchAll(PLACEHOLDER)) params.add(name);
  collectPorts(tree.$value, fixed, params);
}

/** A template's ports depend on it and the prefix alone: worked out once, not per admission. */
const PORTS = new WeakMap<SidecarTemplate, Map<string, SidecarPorts>>();

export function sidecarPorts(template: SidecarTemplate, prefix: string): SidecarPorts {
  let byPrefix = PORTS.get(template);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    PORTS.set(template, byPrefix);
  }
  let ports = byPrefix.get(prefix);
  if (ports === undefined) {
    ports = portsOf(template, prefix);
    byPrefix.set(prefix, ports);
  }
  return ports;
}

function portsOf(template: SidecarTemplate, prefix: string): SidecarPorts {
  const fixed = new Set<number>();
  const params = new Set<string>();
  collectPorts(template.container.ports, fixed, params);
  for (const name of [...params]) {
    const from = template.parameters.find((p) => p.name === name)?.numberFrom;
    if (from !== undefined) params.add(from);
  }
  return { fixed, setBy: [...params].map((p) => `${prefix}/${template.name}.${p}`) };
}

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;
const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'grpc'] as const;

function declaredPorts(container: JsonObject, name: string): Listener[] {
  const out: Listener[] = [];
  if (!isArray(container.ports)) return out;
  for (const p of container.ports) {
    if (!isObject(p) || typeof p.containerPort !== 'number') continue;
    const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
    const listener: Listener = { container: name, port: p.containerPort, protocol, declared: true };
    if (typeof p.name === 'string') listener.name = p.name;
    out.push(listener);
  }
  return out;
}

/** Numeric probe ports: a named one is one of the container's own ports, declared already. */
function probePorts(container: JsonObject, name: string): Listener[] {
  const out: Listener[] = [];
  for (const probe of PROBES) {
    const spec = container[probe];
    if (!isObject(spec)) continue;
    for (const handler of PROBE_HANDLERS) {
      const target: Json | undefined = spec[handler];
      if (isObject(target) && typeof target.port === 'number') {
        out.push({ container: name, port: target.port, protocol: 'TCP', declared: false });
      }
    }
  }
  return out;
}

function listeners(container: JsonObject): Listener[] {
  const name = nameOf(container) ?? '';
  const declared = declaredPorts(container, name);
  const probed = probePorts(container, name).filter(
    (p) => !declared.some((d) => d.port === p.port && d.protocol === p.protocol),
  );
  return [...declared, ...probed];
}

interface Running {
  container: JsonObject;
  /** Index in initContainers, or Infinity for app containers (they start after every init container). */
  start: number;
  /** A plain init container exits before the next one starts. */
  once: boolean;
}

/**
 * Whether two containers can run at once: native sidecars and app containers run until the Pod
 * ends; a plain init container runs alone among init containers, alongside the sidecars before it.
 */
function overlap(a: Running, b: Running): boolean {
  if (a.once && b.once) return false;
  if (a.once) return b.start < a.start;
  if (b.once) return a.start < b.start;
  return true;
}

/** The fix through a sidecar's annotations, when they set this port. */
function moveWith(
  name: string,
  port: number,
  sidecars: ReadonlyMap<string, SidecarPorts>,
): string | undefined {
  const s = sidecars.get(name);
  if (s === undefined || s.fixed.has(port) || s.setBy.length === 0) return undefined;
  return `give sidecar ${name} another port with annotation ${s.setBy.join(' or ')}`;
}

/** What to change: a port written in a template moves only with the template. */
function portFix(
  sidecar: string,
  other: string,
  port: number,
  sidecars: ReadonlyMap<string, SidecarPorts>,
): string {
  const moves = [sidecar, other].flatMap((name) => moveWith(name, port, sidecars) ?? []);
  if (sidecars.has(other)) {
    return moves.length > 0
      ? `${moves.join(', or ')}, or inject only one of ${sidecar} and ${other}`
      : `inject only one of ${sidecar} and ${other}, or give one of them another port in a template of your own`;
  }
  return moves.length > 0
    ? `move container ${other} to another port, or ${moves.join('')}`
    : `move container ${other} to another port (${sidecar} takes this one from its template; no parameter changes it)`;
}

/** A port an injected sidecar declares twice: its program cannot listen on it twice. */
function ownClashes(
  container: JsonObject,
  sidecars: ReadonlyMap<string, SidecarPorts>,
  where: string,
): string[] {
  const name = nameOf(container) ?? '';
  const declared = declaredPorts(container, name);
  return declared.flatMap((a, i) => {
    const b = declared.slice(i + 1).find((l) => l.port === a.port && l.protocol === a.protocol);
    if (b === undefined) return [];
    const named = a.name !== undefined && b.name !== undefined ? ` (ports ${a.name} and ${b.name})` : '';
    const setBy = sidecars.get(name)?.setBy ?? [];
    const fix =
      setBy.length > 0
        ? `give one of them another port with annotation ${setBy.join(' or ')}`
        : `give one of them another port in the template`;
    return [
      `port ${a.port}/${a.protocol} clash: sidecar ${name} declares it twice${named} in ${where}, and cannot listen on it twice; ${fix}`,
    ];
  });
}

/**
 * Ports that two containers of the Pod would both listen on (every container of a Pod shares one
 * network namespace, the node's with hostNetwork): one of them cannot bind and the Pod never gets
 * ready. Only clashes that involve an injected sidecar are sidekick's to report. A port declared
 * on both sides is refused; a port that one side only probes is a warning, since a probe may aim
 * at a port that another container serves.
 */
export function portClashes(
  spec: JsonObject,
  sidecars: ReadonlyMap<string, SidecarPorts>,
  problems: string[],
  warnings: string[],
): void {
  const running: Running[] = [
    ...objectsAt(spec, 'initContainers').map((container, start) => ({
      container,
      start,
      once: container.restartPolicy !== 'Always',
    })),
    ...objectsAt(spec, 'containers').map((container) => ({ container, start: Infinity, once: false })),
  ];
  const names = running.map((r) => nameOf(r.container) ?? '');
  const injected = names.map((name) => sidecars.has(name));
  const where =
    spec.hostNetwork === true ? "the node's network namespace (hostNetwork)" : "the Pod's network namespace";
  running.forEach((r, i) => {
    if (injected[i] === true) problems.push(...ownClashes(r.container, sidecars, where));
  });
  // Each container's listeners read once, and only pairs with an injected sidecar compared: a Pod
  // of a thousand containers costs a thousand comparisons per sidecar, not half a million pairs.
  const heard = running.map((r) => listeners(r.container));
  const all = running.map((_, k) => k);
  const sidecarAt = all.filter((k) => injected[k] === true);
  running.forEach((a, i) => {
    const partners = injected[i] === true ? all.slice(i + 1) : sidecarAt.filter((k) => k > i);
    for (const j of partners) {
      const b = running[j];
      if (b === undefined || !overlap(a, b)) continue;
      for (const la of heard[i] ?? []) {
        const lb = (heard[j] ?? []).find((l) => l.port === la.port && l.protocol === la.protocol);
        if (lb === undefined) continue;
        const [side, other] = injected[i] === true ? [la, lb] : [lb, la];
        const otherIs = sidecars.has(other.container) ? 'sidecar' : 'container';
        const fix = portFix(side.container, other.container, la.port, sidecars);
        const port = `${la.port}/${la.protocol}`;
        if (la.declared && lb.declared) {
          problems.push(
            `port ${port} clash: sidecar ${side.container} and ${otherIs} ${other.container} both listen on it in ${where}, so one of them cannot bind; ${fix}`,
          );
        } else {
          const probing = la.declared ? lb.container : la.container;
          warnings.push(
            `port ${port}: sidecar ${side.container} and ${otherIs} ${other.container} may both use it in ${where} (container ${probing} probes it without declaring it); if both listen on it, ${fix}`,
          );
        }
      }
    }
  });
}
