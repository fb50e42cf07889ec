// `cephgate policy check|test|explain`: offline policy tools (no Ceph, no database needed).
// With a configuration, unknown Ceph accounts and the configured releases are checked too.

import { readFileSync, statSync } from 'node:fs';
import { describeError } from '../config/check-explain.ts';
import type { CephRelease } from '../core/catalogue.ts';
import type { HttpMethod } from '../core/http.ts';
import type { AuthMethod } from '../core/principal.ts';
import { policyCheck, policyExplain, policyTest } from '../policy/cli-commands.ts';
import { config, groupHelp, parse, UsageError } from './common.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** The policy directory, or why it cannot be read (then the command could not run: exit 2, not a failed check). */
function unreadableDir(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `${dir} is not a directory`;
  } catch (err) {
    return describeError(err, { service: 'file', endpoint: dir });
  }
}

export async function policyCommand(args: string[]): Promise<number> {
  const help = groupHelp('policy', args, ['check', 'test', 'explain']);
  if (help !== null) return help;
  const [verb, ...rest] = args;
  const { values } = parse(rest, {
    dir: { type: 'string' },
    principal: { type: 'string' },
    method: { type: 'string' },
    path: { type: 'string' },
    body: { type: 'string' },
    json: { type: 'boolean' },
  });
  const hasConfig = Boolean(values.config) || Boolean(process.env.CEPHGATE_CONFIG);
  const cfg = hasConfig ? config(values.config).config : null;
  const releases = cfg?.ceph.clusters.map((c) => c.release).filter((r): r is CephRelease => r !== 'auto');
  const common = {
    dir: values.dir ?? cfg?.policy.dir ?? './policies',
    // Accounts are checked only against a configuration that has clusters.
    accounts: cfg && cfg.ceph.clusters.length > 0 ? Object.fromEntries(cfg.ceph.clusters.map((c) => [c.name, c.accounts.map((a) => a.name)])) : null,
    ...(releases && releases.length > 0 ? { releases } : {}),
    ...(cfg ? { maxInspectBytes: cfg.policy.max_inspect_bytes } : {}),
    ...(cfg?.ceph.default_cluster ? { defaultCluster: cfg.ceph.default_cluster } : cfg?.ceph.clusters[0] ? { defaultCluster: cfg.ceph.clusters[0].name } : {}),
  };
  const unreadable = unreadableDir(common.dir);
  if (unreadable !== null) {
    console.error(
      `cephgate policy ${verb}: cannot read the policy directory: ${unreadable}${values.dir ? '' : ' (give --dir DIR, or policy.dir in the configuration)'}`,
    );
    return 2;
  }
  switch (verb) {
    case 'check':
      return policyCheck(common);
    case 'test':
      return policyTest(common);
    case 'explain': {
      if (!values.principal || !values.method || !values.path) throw new UsageError('policy explain needs --principal, --method and --path');
      const asked = values.method.toUpperCase();
      if (!METHODS.has(asked)) throw new UsageError(`--method must be one of ${[...METHODS].join(', ')}`);
      // HEAD is the GET without its body (RFC 9110 9.3.2): the gateway matches and decides it as that GET (pipeline/handle.ts).
      const method = asked === 'HEAD' ? 'GET' : asked;
      if (asked === 'HEAD' && !values.json) console.log('HEAD is decided as its GET:');
      const text = values.principal.startsWith('@') ? readFileSync(values.principal.slice(1), 'utf8') : values.principal;
      let principal: { id: string; groups: string[]; method?: AuthMethod; apiKey?: string };
      try {
        principal = JSON.parse(text);
      } catch {
        throw new UsageError('--principal must be JSON like {"id":"alice","groups":["team-a"]} or @file');
      }
      if (typeof principal?.id !== 'string' || !Array.isArray(principal.groups)) throw new UsageError('--principal needs "id" (string) and "groups" (list)');
      return policyExplain({
        ...common,
        principal,
        method: method as HttpMethod,
        path: values.path,
        ...(values.body ? { body: readFileSync(values.body) } : {}),
        ...(values.json ? { json: true } : {}),
      });
    }
    default:
      throw new UsageError(`unknown policy command ${JSON.stringify(verb)} (check, test, explain)`);
  }
}
