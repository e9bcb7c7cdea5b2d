import type { Command } from './command.js';

export const inject: Command = (io) => {
  io.stderr.write('sidekick inject: not built yet\n');
  return Promise.resolve(1);
};
