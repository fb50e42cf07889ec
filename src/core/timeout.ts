// The one bound on a wait: a promise that rejects when `work` has not settled within `ms`. The work
// itself is not cancelled (callers that can cancel pass an AbortSignal to it as well).

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
