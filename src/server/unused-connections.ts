import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** Long enough that a client that opened a connection to use it has sent its request. */
const UNUSED_AFTER_MS = 1000;

/**
 * Connections that have never carried a request. An HTTP client such as Go's (the apiserver's
 * webhook client) dials a spare connection when none is free and keeps it for later; Node's
 * closeIdleConnections() counts such a connection as busy (its headers timeout is running), so
 * a drain would wait for it until the client's own idle timeout. Those are the ones to close.
 */
export interface UnusedConnections {
  /** Ends the connections older than a second that have carried no request. */
  close(): void;
}

export function trackUnusedConnections(
  server: Server,
  now = (): number => performance.now(),
): UnusedConnections {
  const opened = new Map<Socket, number>();
  server.on('secureConnection', (socket: TLSSocket) => {
    opened.set(socket, now());
    socket.once('close', () => opened.delete(socket));
  });
  server.on('request', (req) => {
    opened.delete(req.socket);
  });
  return {
    close() {
      const cutoff = now() - UNUSED_AFTER_MS;
      for (const [socket, at] of opened) {
        if (at <= cutoff) {
          opened.delete(socket);
          socket.destroy();
        }
      }
    },
  };
}
