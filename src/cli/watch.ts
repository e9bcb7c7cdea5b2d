import type { Command } from './command.js';

export const watch: Command = (io) => {
  io.stderr.write('sidekick watch: not built yet\n');
  return Promise.resolve(1);
};
