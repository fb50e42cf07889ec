// The counters behind rate limits, from rate-limiter-flexible: fixed windows in the gateway database
// (RateLimiterDrizzle on the `rate_limits` table: exact across every instance) or in this process's memory
// (each instance enforcing its share). bench/rate-limit-store.ts measures what each costs per request.

import { lt } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Db } from '../db/database.ts';
import { rateLimits } from '../db/schema.ts';

/** One budget: `points` per `windowMs`, keyed by partition. */
export interface Counter {
  readonly points: number;
  readonly windowMs: number;
  /** Spends one point of `key`: resolves with the state after it, rejects with the state when over budget. */
  consume(key: string): Promise<RateLimiterRes>;
}

export interface CounterStore {
  counter(prefix: string, points: number, windowMs: number): Counter;
}

/** A budget's share on one of `instances` instances: never 0, or nothing would ever pass. */
export const shareOf = (points: number, instances: number): number => Math.max(1, Math.floor(points / instances));

/** Per-instance counters; with `instances` > 1 each enforces its share of every budget. */
export function memoryStore(instances: number): CounterStore {
  return {
    counter(prefix, points, windowMs) {
      const share = shareOf(points, instances);
      const l = new RateLimiterMemory({ keyPrefix: prefix, points: share, duration: windowMs / 1000 });
      return { points: share, windowMs, consume: (key) => l.consume(key) };
    },
  };
}

/**
 * Shared counters in the gateway database. A key found exhausted is refused from memory until its window
 * ends (no database round trip for a caller that is over budget), and while the database cannot be reached
 * each instance falls back to its share in memory (`instances`): rate limiting is not a reason to refuse
 * every request, and the audit log fails closed on its own.
 */
export function databaseStore(db: Db, instances: number): CounterStore {
  return {
    counter(prefix, points, windowMs) {
      const duration = windowMs / 1000;
      const l = new RateLimiterDrizzle({
        storeClient: db,
        schema: rateLimits,
        keyPrefix: prefix,
        points,
        duration,
        inMemoryBlockOnConsumed: points,
        // Expired rows are swept once for all counters (sweepExpired), not by a timer per counter.
        clearExpiredByTimeout: false,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${prefix}-insurance`, points: shareOf(points, instances), duration }),
      });
      return { points, windowMs, consume: (key) => l.consume(key) };
    },
  };
}

/** Deletes counters whose window ended over an hour ago (a caller that stopped calling leaves its row behind). */
export async function sweepExpired(db: Db, now: Date): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.expire, new Date(now.getTime() - 3_600_000)));
}
