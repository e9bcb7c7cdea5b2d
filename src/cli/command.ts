import type { Writable } from 'node:stream';

/** What a command may touch: the composition root hands these in, nothing else reads process. */
export interface CommandIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
}

/** Resolves to the exit code. Long-running commands resolve when they stop. */
export type Command = (io: CommandIo) => Promise<number>;
