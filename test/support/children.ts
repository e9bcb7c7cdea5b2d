// The test process's child processes: stopped with SIGTERM then SIGKILL, and never left running
// after the test process exits, however it ends.
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooked = false;

/** SIGKILL to `child` when the test process exits, if it is still running then. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (hooked) return;
  hooked = true;
  process.on('exit', killChildren);
}

/** SIGKILL to every child given to killOnExit that has not exited. */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves with `exited` (at once when the child has
 * already exited).
 */
export async function terminate<T>(child: ChildProcess, exited: Promise<T>, graceMs: number): Promise<T> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
