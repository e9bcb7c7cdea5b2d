import { isObject, type JsonObject } from '../json.js';
import { nameOf, objectsAt } from './pod.js';

function runAsUser(securityContext: unknown): number | undefined {
  return isObject(securityContext) && typeof securityContext.runAsUser === 'number'
    ? securityContext.runAsUser
    : undefined;
}

/**
 * A sidecar that signals the app (config-watcher in signal mode) runs without CAP_KILL (the
 * restricted profile drops it), so the kernel lets it signal only processes of its own UID. The
 * UIDs are certain to match only when the Pod states one for both: otherwise each runs as its
 * image's user, and the first reload fails with EPERM. `signalling` are the sidecars that signal.
 */
export function signalUidProblems(spec: JsonObject, signalling: readonly string[], prefix: string): string[] {
  if (signalling.length === 0) return [];
  const pod = runAsUser(spec.securityContext);
  const init = objectsAt(spec, 'initContainers');
  const effective = (c: JsonObject): number | undefined => runAsUser(c.securityContext) ?? pod;
  const apps = objectsAt(spec, 'containers');
  const out: string[] = [];
  for (const name of signalling) {
    const fix =
      "set the Pod's spec.securityContext.runAsUser to the app's UID and no runAsUser on the containers" +
      ` (a process may only signal processes of its own UID), or use HTTP mode (${prefix}/${name}.url)`;
    const watcher = init.find((c) => nameOf(c) === name);
    const own = watcher === undefined ? pod : effective(watcher);
    const uids = apps.map((c) => ({ name: nameOf(c) ?? '', uid: effective(c) }));
    const unset = uids.filter((u) => u.uid === undefined).map((u) => u.name);
    const other = uids.filter((u) => u.uid !== undefined && u.uid !== own);
    if (own === undefined || unset.length > 0) {
      const which =
        own === undefined ? 'the Pod sets no runAsUser' : `container ${unset.join(', ')} sets no runAsUser`;
      out.push(
        `${name} signals the app, which needs the same UID for both, but ${which}, so each runs as its image's user; ${fix}`,
      );
    } else if (other.length > 0) {
      const them = other.map((u) => `container ${u.name} runs as ${u.uid ?? ''}`).join(', ');
      out.push(
        `${name} signals the app, which needs the same UID for both, but ${name} runs as ${own} and ${them}; ${fix}`,
      );
    }
  }
  return out;
}
