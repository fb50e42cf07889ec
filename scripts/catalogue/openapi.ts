// Regenerates src/ceph/catalogue/<release>.json from the dashboard OpenAPI specs in scripts/catalogue/specs/
// (`npm run catalogue`). The derivation itself is openapi-operations.ts (pure, unit-tested).

import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CephRelease } from '../../src/core/catalogue.ts';
import { catalogueFromSpec, serialiseCatalogue } from './openapi-operations.ts';

const releases: CephRelease[] = ['pacific', 'reef', 'tentacle'];
for (const release of releases) {
  const specUrl = new URL(`./specs/openapi-${release}.yaml`, import.meta.url);
  const spec: unknown = parse(readFileSync(specUrl, 'utf8'));
  const ops = catalogueFromSpec(spec);
  const out = new URL(`../../src/ceph/catalogue/${release}.json`, import.meta.url);
  writeFileSync(out, serialiseCatalogue(release, ops));
  console.log(`${release}: ${ops.length} operations -> ${out.pathname}`);
}
