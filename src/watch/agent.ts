import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { AgentConfig } from './config.js';
import { DirWatcher } from './dir-watcher.js';
import { formatDuration } from './duration.js';
import { closeServer, createHealthServer, listen } from './health.js';
import { HttpNotifier } from './http-notifier.js';
import type { Notifier } from './notifier.js';
import { realClock, ReloadScheduler, type Clock } from './scheduler.js';
import { SignalNotifier } from './signal-notifier.js';
import { diffSnapshots, scanDirs, unreadableFiles, type Snapshot } from './snapshot.js';

export interface AgentDeps {
  logger: Logger;
  selfPid: number;
  selfUid: number | undefined;
  clock?: Clock;
  random?: () => number;
  /** false: rely on the periodic rescan alone (as on filesystems without inotify). */
  fsEvents?: boolean;
  /** Resolves when the directories hold their first content (relay mode writes them itself). */
  contentReady?: Promise<void>;
}

function createNotifier(config: AgentConfig, deps: AgentDeps): Notifier {
  const { mode } = config;
  if (mode.kind === 'http') {
    return new HttpNotifier({
      url: mode.url,
      logger: deps.logger,
      ...(deps.random ? { random: deps.random } : {}),
    });
  }
  return new SignalNotifier({
    process: mode.process,
    signal: mode.signal,
    selfPid: deps.selfPid,
    selfUid: deps.selfUid,
    logger: deps.logger,
  });
}

/**
 * The config-watcher: file events (or the periodic rescan) → debounce → compare content with what
 * the app last reloaded → random jitter delay → compare again → notify. Comparing content, not
 * events, means a swap to identical files (or a change reverted while waiting) reloads nothing.
 */
export class WatchAgent {
  private readonly logger: Logger;
  private readonly scheduler: ReloadScheduler;
  private readonly watcher: DirWatcher | undefined;
  private readonly notifier: Notifier;
  private health: Server | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  /** The content the app has (or was last told to reload): the reference for "changed". */
  private baseline: Snapshot | undefined;
  private lastSeen: Snapshot | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly contentReady: Promise<void> | undefined;

  constructor(
    private readonly config: AgentConfig,
    deps: AgentDeps,
  ) {
    this.logger = deps.logger;
    this.contentReady = deps.contentReady;
    this.notifier = createNotifier(config, deps);
    this.scheduler = new ReloadScheduler({
      debounceMs: config.debounceMs,
      jitterMs: config.jitterMs,
      clock: deps.clock ?? realClock,
      random: deps.random ?? Math.random,
      onQuiet: () => void this.serial(() => this.settle()),
      onDue: () => void this.serial(() => this.reload()),
    });
    this.watcher =
      deps.fsEvents === false
        ? undefined
        : new DirWatcher(
            config.dirs,
            () => {
              this.scheduler.poke();
            },
            this.logger,
          );
  }

  get ready(): boolean {
    return this.baseline !== undefined;
  }

  /** Starts the health server, the watchers and the first scan. Resolves with the health address. */
  async start(): Promise<AddressInfo | undefined> {
    let address: AddressInfo | undefined;
    if (this.config.healthPort !== undefined) {
      this.health = createHealthServer({ ready: () => this.ready && !this.stopped });
      address = await listen(this.health, this.config.healthPort, this.config.healthAddress);
      this.logger.info(
        { port: address.port, address: address.address },
        'health server listening (/ready, /healthz)',
      );
    }
    // Not ready (503) until then: the startup probe holds the app until its files are in place.
    if (this.contentReady) await this.contentReady;
    if (this.stopped) return address;
    this.watcher?.refresh();
    await this.serial(() => this.firstScan());
    this.rescanTimer = setInterval(() => void this.serial(() => this.rescan()), this.config.rescanMs);
    return address;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    clearInterval(this.rescanTimer);
    this.watcher?.close();
    this.notifier.close();
    await this.queue;
    if (this.health) await closeServer(this.health);
    this.logger.info('stopped');
  }

  /** Scans and decisions run one at a time, so the baseline is never raced. */
  private serial(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue
      .then(async () => {
        if (!this.stopped) await step();
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'watch step failed; continuing');
      });
    return this.queue;
  }

  private async firstScan(): Promise<void> {
    const snapshot = await scanDirs(this.config.dirs);
    this.lastSeen = snapshot;
    if (!snapshot.complete) {
      const unreadable = snapshot.dirs
        .filter((d) => d.error !== undefined)
        .map((d) => ({ dir: d.dir, error: d.error }));
      this.logger.error(
        { unreadable },
        'cannot read every watched directory; not ready, retrying at each rescan',
      );
      return;
    }
    this.baseline = snapshot;
    const unreadable = unreadableFiles(snapshot);
    if (unreadable.length > 0) {
      this.logger.warn(
        { unreadable },
        'cannot read some files: changes to their content go unnoticed (give the agent read access, e.g. fsGroup or defaultMode)',
      );
    }
    const { mode } = this.config;
    this.logger.info(
      {
        dirs: this.config.dirs,
        files: snapshot.dirs.reduce((n, d) => n + d.files.size, 0),
        ...(mode.kind === 'http' ? { url: mode.url.href } : { process: mode.process, signal: mode.signal }),
        debounce: formatDuration(this.config.debounceMs),
        jitter: formatDuration(this.config.jitterMs),
        fsEvents: this.watcher?.watching() ?? [],
        // Since Node started (its timeOrigin): start-up as the process itself saw it, without the
        // runtime's wait between creating the container's process and starting it.
        startupMs: Math.round(performance.now()),
      },
      'first scan complete; watching',
    );
  }

  private async rescan(): Promise<void> {
    this.watcher?.refresh();
    if (!this.ready) {
      await this.firstScan();
      return;
    }
    const snapshot = await scanDirs(this.config.dirs);
    if (snapshot.hash !== this.lastSeen?.hash) {
      this.lastSeen = snapshot;
      this.logger.debug('periodic rescan found different content');
      this.scheduler.poke();
    }
  }

  /** The debounce period passed without events: is the content different from the app's? */
  private async settle(): Promise<void> {
    this.watcher?.refresh();
    const baseline = this.baseline;
    if (baseline === undefined) return;
    const snapshot = await scanDirs(this.config.dirs);
    this.lastSeen = snapshot;
    if (snapshot.hash === baseline.hash) {
      this.logger.info(
        { dirs: this.config.dirs },
        'files changed on disk but the content is the same; no reload',
      );
      return;
    }
    const change = diffSnapshots(baseline, snapshot);
    const delayMs = this.scheduler.arm();
    if (delayMs === undefined) {
      this.logger.info({ change }, 'content changed; a reload is already scheduled');
    } else {
      this.logger.info({ change, delayMs }, `content changed; reload in ${formatDuration(delayMs)}`);
    }
  }

  /** The jitter delay passed: notify, unless the content went back to what the app has. */
  private async reload(): Promise<void> {
    const baseline = this.baseline;
    if (baseline === undefined) return;
    const snapshot = await scanDirs(this.config.dirs);
    this.lastSeen = snapshot;
    if (snapshot.hash === baseline.hash) {
      this.logger.info('content is back to what the app already has; no reload');
      return;
    }
    const change = diffSnapshots(baseline, snapshot);
    this.baseline = snapshot;
    this.logger.info({ change }, 'reloading the app');
    // Not awaited: HTTP retries may take long, and must not hold up the next change.
    void this.notifier.notify(change).catch((error: unknown) => {
      this.logger.error({ err: error }, 'notification failed');
    });
  }
}
