import type { Command } from './command.js';

export const serve: Command = (io) => {
  io.stderr.write('sidekick serve: not built yet\n');
  return Promise.resolve(1);
};
