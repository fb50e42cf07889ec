// Raw HTTP/1.1 over a TCP socket, for tests that need bytes no well-behaved client would send
// (CL+TE together, slow headers, dot segments that fetch would normalise away).

import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Everything read from the connection (several answers when requests were pipelined). */
  readonly raw: string;
}

export function parseRawAnswer(text: string): RawAnswer {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), raw: text };
}

/** Sends `chunks` (with optional pauses between them) and resolves with everything read until close. */
export function rawRequest(port: number, chunks: (string | { pauseMs: number })[], timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got: ${data.slice(0, 200)}`));
    }, timeoutMs);
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawAnswer(data));
    });
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'string') {
          if (!socket.writable) break;
          socket.write(c);
        } else await new Promise((r) => setTimeout(r, c.pauseMs));
      }
    });
  });
}
