export interface ServeFlags {
  port: number;
  metricsPort: number;
  certFile: string;
  keyFile: string;
  templatesDir: string;
  /** `sidekick` unless given. */
  injectorNamespace?: string;
  extraArgs?: readonly string[];
}

/** The arguments of `sidekick serve` on 127.0.0.1 with these files, logging at info. */
export function serveArgs(flags: ServeFlags): string[] {
  return [
    'serve',
    '--address=127.0.0.1',
    `--port=${String(flags.port)}`,
    `--metrics-port=${String(flags.metricsPort)}`,
    `--tls-cert=${flags.certFile}`,
    `--tls-key=${flags.keyFile}`,
    `--templates=${flags.templatesDir}`,
    `--injector-namespace=${flags.injectorNamespace ?? 'sidekick'}`,
    '--log-level=info',
    ...(flags.extraArgs ?? []),
  ];
}
