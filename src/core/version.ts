// The gateway's own version (package.json), for `cephgate version`, the build-info metric and traces.
// Read once; src/ runs from the checkout (tsx) and from dist/src (the build), one folder deeper.

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function gatewayVersion(): string {
  if (cached !== undefined) return cached;
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cephgate' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not this folder
    }
  }
  return (cached = 'unknown');
}
