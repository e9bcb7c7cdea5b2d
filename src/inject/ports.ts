import { isObject, type Json, type JsonObject } from '../json.js';
import { nameOf, objectsAt } from './pod.js';

/** One port a container listens on, as the Pod spec says. */
interface Listener {
  container: string;
  port: number;
  protocol: string;
  /** Declared in `ports` (certain), or only the target of one of its probes (likely). */
  declared: boolean;
}

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;
const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'grpc'] as const;

function declaredPorts(container: JsonObject, name: string): Listener[] {
  return objectsAt(container, 'ports').flatMap((p) => {
    if (typeof p.containerPort !== 'number') return [];
    const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
    return [{ container: name, port: p.containerPort, protocol, declared: true }];
  });
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

/** Every port a template declares is fixed in the template: no parameter moves it. */
function portFix(sidecar: string, other: string, isSidecar: boolean): string {
  return isSidecar
    ? `inject only one of ${sidecar} and ${other}, or give one of them another port in a template of your own`
    : `move container ${other} to another port (${sidecar} takes this one from its template; no parameter changes it)`;
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
  sidecars: ReadonlySet<string>,
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
  const isSidecar = (r: Running): boolean => sidecars.has(nameOf(r.container) ?? '');
  const where =
    spec.hostNetwork === true ? "the node's network namespace (hostNetwork)" : "the Pod's network namespace";
  running.forEach((a, i) => {
    for (const b of running.slice(i + 1)) {
      if (!(isSidecar(a) || isSidecar(b)) || !overlap(a, b)) continue;
      for (const la of listeners(a.container)) {
        const lb = listeners(b.container).find((l) => l.port === la.port && l.protocol === la.protocol);
        if (lb === undefined) continue;
        const [side, other] = isSidecar(a) ? [la, lb] : [lb, la];
        const otherIs = sidecars.has(other.container) ? 'sidecar' : 'container';
        const fix = portFix(side.container, other.container, sidecars.has(other.container));
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
