// The recorded Ceph answers (bench/fixtures/*.json) and the shape they are stored in, shared by the
// recorder and the stub upstream.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Fixture {
  readonly method: string;
  /** Path and query as recorded. */
  readonly path: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Body text exactly as Ceph sent it (forwarded bytes are compared against it). */
  body: string;
  readonly recordedAt: string;
}

export const FIXTURE_NAMES = ['auth-login', 'pool-list', 'health-full', 'rbd-image-list', 'rbd-image-create'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function loadFixtures(): Record<FixtureName, Fixture> {
  const out = {} as Record<FixtureName, Fixture>;
  for (const name of FIXTURE_NAMES) out[name] = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Fixture;
  return out;
}
