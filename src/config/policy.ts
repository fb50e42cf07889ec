// Configuration of the policy engine: where policy files live and how bodies are inspected.

import { z } from 'zod';

export const policyConfigSchema = z
  .object({
    dir: z.string().default('./policies'),
    watch: z.boolean().default(true),
    max_inspect_bytes: z.number().int().positive().default(1048576),
  })
  .strict()
  .default({ dir: './policies', watch: true, max_inspect_bytes: 1048576 });
