import type { Command } from './command.js';

export const explain: Command = (io) => {
  io.stderr.write('sidekick explain: not built yet\n');
  return Promise.resolve(1);
};
