// Configuration of identity: trusted OIDC issuers, browser login, API keys, Ceph-native login.
// (Filled in by the identity work; the gateway refuses every request when nothing is configured.)

import { z } from 'zod';

export const identityConfigSchema = z.object({}).passthrough().default({});
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
