import type { Command } from './command.js';

export const certs: Command = (io) => {
  io.stderr.write('sidekick certs: not built yet\n');
  return Promise.resolve(1);
};
