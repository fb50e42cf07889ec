// Closing a connection whose request body is still arriving, as nginx's `lingering_close` does: after a
// refusal that ends the connection (413, 408), the answer is written, the write side is shut (FIN), and
// what the client still sends is read and dropped for a while before the socket is closed. Closing at
// once makes the kernel answer the client's next bytes with a reset, and a reset throws away the answer
// still waiting unread in the client's receive buffer: the client sees "connection reset" instead of
// the 413 (issue 18 item 7).

import type { Socket } from 'node:net';

/** How long a refused upload may go on being read and dropped (nginx: lingering_time 30 s, lingering_timeout 5 s). */
export interface LingerLimits {
  /** The most time spent draining, whatever the client does. */
  readonly totalMs: number;
  /** Closed sooner when the client sends nothing for this long. */
  readonly idleMs: number;
}

export const LINGER: LingerLimits = { totalMs: 30_000, idleMs: 5_000 };

/**
 * Makes the socket linger instead of closing once the answer now being written has been sent. Node's HTTP
 * server ends a `Connection: close` answer with `socket.destroySoon()` (FIN, then destroy as soon as the
 * answer is flushed); for this socket that becomes: FIN, keep reading and dropping, destroy when the
 * client closes its side, goes quiet, or the total time is up.
 */
export function lingerAfterAnswer(socket: Socket, limits: LingerLimits = LINGER): void {
  if (socket.destroyed) return;
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = () => {
    if (socket.destroyed) return;
    socket.end();
    const close = () => socket.destroy();
    const total = setTimeout(close, limits.totalMs);
    // Quiet for idleMs: closed. bytesRead rather than 'data' events, because Node's HTTP parser reads
    // the handle itself and the socket emits no 'data' while it does.
    let seen = socket.bytesRead;
    const idle = setInterval(() => {
      if (socket.bytesRead === seen) close();
      seen = socket.bytesRead;
    }, limits.idleMs);
    socket.once('end', close);
    socket.once('close', () => {
      clearTimeout(total);
      clearInterval(idle);
    });
    socket.resume();
  };
}
