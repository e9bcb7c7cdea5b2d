#!/usr/bin/env node
// Composition root: the only module that reads process.argv, process.env and the standard streams.
import type { Command, CommandIo } from './cli/command.js';
import { UsageError } from './cli/options.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: {
    summary: 'run the HTTPS admission webhook',
    load: async () => (await import('./cli/serve.js')).serve,
  },
  inject: {
    summary: 'inject sidecars into Pods and workloads from YAML (offline)',
    load: async () => (await import('./cli/inject.js')).inject,
  },
  explain: {
    summary: 'show which sidecars would be injected, in which order, and why',
    load: async () => (await import('./cli/explain.js')).explain,
  },
  templates: {
    summary: 'list or validate SidecarTemplates',
    load: async () => (await import('./cli/templates.js')).templates,
  },
  watch: {
    summary: 'the config-watcher agent: reload an app when mounted config changes',
    load: async () => (await import('./cli/watch.js')).watch,
  },
  relay: {
    summary: 'the config relay: one watch for the cluster, streamed to config-watchers by their Pod tokens',
    load: async () => (await import('./cli/relay.js')).relay,
  },
  check: {
    summary:
      'check a live cluster: webhook health, opt-ins, workloads the templates refuse or change, stale Pods',
    load: async () => (await import('./cli/check.js')).check,
  },
  version: {
    summary: 'print the version and the templates’ hash (the built-ins, or --templates/--extra-templates)',
    load: async () => (await import('./cli/version.js')).version,
  },
  certs: {
    summary: 'generate webhook TLS certificates, to a directory or into the cluster',
    load: async () => (await import('./cli/certs.js')).certs,
  },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: sidekick <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nEvery option also reads SIDEKICK_<OPTION> from the environment. Run 'sidekick <command> --help' for its options.\n`;
}

// A reader that closes early (`sidekick inject … | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

async function main(): Promise<number> {
  const [given, ...argv] = process.argv.slice(2);
  const name = given === '--version' ? 'version' : given;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`sidekick: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const io: CommandIo = {
    argv,
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
  };
  try {
    return await (
      await entry.load()
    )(io);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`sidekick ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `sidekick: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
