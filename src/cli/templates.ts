import type { Command } from './command.js';

export const templates: Command = (io) => {
  io.stderr.write('sidekick templates: not built yet\n');
  return Promise.resolve(1);
};
