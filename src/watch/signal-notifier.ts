import type { Logger } from '../log.js';
import { selectTargets, type ProcessInfo } from './match.js';
import { listProcesses, processUid } from './proc.js';
import type { ChangeSummary, Notifier } from './notifier.js';

export interface SignalNotifierOptions {
  process: string;
  signal: NodeJS.Signals;
  selfPid: number;
  selfUid: number | undefined;
  logger: Logger;
  procRoot?: string;
}

export interface SignalReport {
  signalled: number[];
  denied: number[];
  gone: number[];
  failed: number[];
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Signal mode: every process of the (shared) PID namespace whose name matches gets the signal.
 * No retry: a process that is not running yet reads the current files when it starts, and a
 * signal that reaches it before it installs its handler would kill it (SIGHUP's default action).
 */
export class SignalNotifier implements Notifier {
  constructor(private readonly options: SignalNotifierOptions) {}

  async notify(change: ChangeSummary): Promise<SignalReport> {
    const { logger, process: name, signal } = this.options;
    const report: SignalReport = { signalled: [], denied: [], gone: [], failed: [] };
    let processes: ProcessInfo[];
    try {
      processes = await listProcesses(this.options.procRoot);
    } catch (error) {
      logger.error({ err: error, change }, 'cannot list processes (is /proc mounted?); no reload sent');
      return report;
    }
    const targets = selectTargets(processes, name, this.options.selfPid);
    if (targets.length === 0) {
      logger.warn(
        { process: name, signal, change },
        `no process named '${name}' is visible; no reload sent (the app may not have started yet; a signal needs shareProcessNamespace: true)`,
      );
      return report;
    }
    for (const target of targets) {
      await this.signalOne(target, report);
    }
    if (report.signalled.length > 0) {
      logger.info({ process: name, signal, pids: report.signalled, change }, 'reload signal sent');
    }
    return report;
  }

  private async signalOne(target: ProcessInfo, report: SignalReport): Promise<void> {
    const { logger, signal } = this.options;
    try {
      process.kill(target.pid, signal);
      report.signalled.push(target.pid);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ESRCH') {
        report.gone.push(target.pid);
        logger.info({ pid: target.pid, comm: target.comm }, 'process exited before it could be signalled');
      } else if (code === 'EPERM') {
        report.denied.push(target.pid);
        await this.logDenied(target);
      } else {
        report.failed.push(target.pid);
        logger.error({ err: error, pid: target.pid, comm: target.comm, signal }, 'sending the signal failed');
      }
    }
  }

  private async logDenied(target: ProcessInfo): Promise<void> {
    const { logger, signal, selfUid } = this.options;
    const targetUid = await processUid(target.pid, this.options.procRoot);
    const differ = targetUid !== undefined && selfUid !== undefined && targetUid !== selfUid;
    const why = differ
      ? `the UIDs differ: the process runs as uid ${targetUid}, this agent as uid ${selfUid}`
      : `the process runs as uid ${targetUid ?? 'unknown'}, this agent as uid ${selfUid ?? 'unknown'}`;
    logger.error(
      { pid: target.pid, comm: target.comm, signal, targetUid, agentUid: selfUid },
      `not permitted to send ${signal} to pid ${target.pid} (${target.comm}): ${why}. ` +
        "Run both containers as one user: set the Pod's spec.securityContext.runAsUser and no other " +
        'runAsUser on either container (the restricted Pod Security profile forbids adding CAP_KILL), ' +
        'or use HTTP mode (--url)',
    );
  }

  close(): void {
    // Nothing in flight: signals are sent synchronously.
  }
}
