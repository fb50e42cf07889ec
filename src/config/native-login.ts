// Configuration of the Ceph-native login (`ceph.clusters[].native_login`): scripts written for the Ceph
// API log in through the gateway with their Ceph username and password and get a gateway-issued token.

import { z } from 'zod';

/** Ceph disables an account after this many failed logins in a row (`account_lockout_attempts`, default 10). */
export const CEPH_LOCKOUT_ATTEMPTS = 10;

export const nativeLoginSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Lifetime of a gateway token; never longer than the Ceph token it stands for (Ceph's default 28800 s). */
    token_ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86400)
      .default(28800),
    /** Ceph username -> gateway groups (what policies see). Users not listed get `default_groups`. */
    groups: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    default_groups: z.array(z.string().min(1)).default(['ceph-native']),
    /** Failed logins per Ceph user within `failure_window_seconds` before 429 without asking Ceph (counted once for all instances). */
    max_failures_per_user: z
      .number()
      .int()
      .min(1)
      .max(CEPH_LOCKOUT_ATTEMPTS - 1)
      .default(5),
    /** Failed logins per client address (any user) within the window: stops username spraying. */
    max_failures_per_client: z.number().int().min(1).default(20),
    failure_window_seconds: z.number().int().positive().default(900),
    /**
     * Failed logins of one user since its last successful gateway login, whatever the window: Ceph's own
     * counter never decays (only a success resets it), so a windowed limit alone would let a slow attacker
     * reach 10. Must stay below Ceph's lock-out count.
     */
    max_consecutive_failures: z
      .number()
      .int()
      .min(1)
      .max(CEPH_LOCKOUT_ATTEMPTS - 1)
      .default(8),
    /** Live gateway tokens kept (in the shared database, all instances together); the oldest are ended beyond this. */
    max_sessions: z.number().int().positive().default(10000),
  })
  .strict()
  .refine((o) => o.max_failures_per_user <= o.max_consecutive_failures, {
    message: 'max_failures_per_user must not exceed max_consecutive_failures',
    path: ['max_failures_per_user'],
  });

export type NativeLoginConfig = z.infer<typeof nativeLoginSchema>;

/** The configuration with every default, as when `native_login: {enabled: true}` is written. */
export const nativeLoginDefaults = (over: Partial<z.input<typeof nativeLoginSchema>> = {}): NativeLoginConfig => nativeLoginSchema.parse(over);
