/** What changed between the content the app last reloaded and the content now on disk. */
export interface ChangeSummary {
  added: string[];
  removed: string[];
  modified: string[];
}

/** Tells the app to reload. Never throws: failures are logged (and retried where that helps). */
export interface Notifier {
  notify(change: ChangeSummary): Promise<unknown>;
  /** Stops any retries in flight. */
  close(): void;
}
