// The child side of the `cost` scenario's CPU profiles: a bench server (B1, G) that calls this starts V8's
// sampling profiler when the harness asks over IPC and writes the profile when it asks again, so a profile
// covers exactly the measured window (no start-up, no warm-up). Nothing runs on the request path.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** Answers `{cmd: 'profile-start'}` and `{cmd: 'profile-stop', file}` with a `{reply: true}` message. */
export function answerProfileCommands(): void {
  let session: Session | null = null;
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => (session as Session).post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
  process.on('message', (m: { cmd?: string; file?: string }) => {
    if (m.cmd === 'profile-start') {
      session = new Session();
      session.connect();
      // 250 µs between samples: ~40,000 in a 10 s row, enough to attribute a few µs per request, at a
      // cost the server can carry (at 100 µs the profiler itself pushed G towards saturation at 2,000/s).
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 250 }))
        .then(() => post('Profiler.start'))
        .then(
          () => process.send?.({ reply: true }),
          (err: Error) => process.send?.({ reply: true, error: err.message }),
        );
    }
    if (m.cmd === 'profile-stop' && session !== null && m.file !== undefined) {
      const file = m.file;
      void post<{ profile: unknown }>('Profiler.stop').then(
        ({ profile }) => {
          writeFileSync(file, JSON.stringify(profile));
          session?.disconnect();
          session = null;
          process.send?.({ reply: true, file });
        },
        (err: Error) => process.send?.({ reply: true, error: err.message }),
      );
    }
  });
}
