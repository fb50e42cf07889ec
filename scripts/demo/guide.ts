// The text the demo prints once everything is up: tokens, the curl lines with the status each gives,
// the browser login, the admin endpoints and where the audit log is; and the non-interactive summary.

import type { Check, CheckResult, DemoUserName } from './checks.ts';
import { curlLine } from './checks.ts';

export interface GuideInput {
  readonly pub: string;
  readonly admin: string;
  readonly issuer: string;
  readonly tokens: Readonly<Record<DemoUserName, string>>;
  readonly groups: Readonly<Record<DemoUserName, readonly string[]>>;
  readonly checks: readonly Check[];
  readonly browserLogin: boolean;
  readonly configPath: string;
  readonly auditDir: string;
  readonly logPath: string;
  readonly release: string;
  readonly dashboard: string;
}

const rule = (title: string) => `\n== ${title} ${'='.repeat(Math.max(3, 72 - title.length))}`;

export function guideText(g: GuideInput): string {
  const out: string[] = [];
  out.push(rule('cephgate demo is running'));
  out.push(`gateway (public)   ${g.pub}`);
  out.push(`gateway (admin)    ${g.admin}   /healthz /readyz /metrics`);
  out.push(`dev OIDC provider  ${g.issuer}`);
  out.push(`Ceph dashboard     ${g.dashboard}   (Ceph ${g.release}; only the gateway holds its accounts)`);
  out.push(`config             ${g.configPath}`);
  out.push(`gateway log        ${g.logPath}`);

  out.push(rule('1. tokens (demo only: throwaway, valid 1 hour)'));
  out.push('Paste these into your shell:');
  for (const [user, token] of Object.entries(g.tokens)) {
    out.push(`export ${user.toUpperCase()}=${token}   # ${user}: ${g.groups[user as DemoUserName].join(', ')}`);
  }
  out.push('A fresh token at any time (dev-user grant of the dev IdP):');
  out.push(`  curl -s -u automation:automation-dev-secret -d grant_type=urn:cephgate:params:oauth:grant-type:dev-user -d username=alice ${g.issuer}/token`);

  out.push(rule('2. try these (expected status after ->)'));
  out.push('202: Ceph took over 5 s and finishes in the background (GET /api/task shows it).');
  for (const c of g.checks) {
    out.push(`# ${c.who ?? 'anyone'}: ${c.why}  -> ${c.expect.join(' or ')}`);
    out.push(curlLine(c, { pub: g.pub, admin: g.admin }));
  }

  out.push(rule('3. browser'));
  if (g.browserLogin) {
    out.push(`The Ceph Dashboard itself: open ${g.pub}/ and sign in at the dev IdP (users alice, bob, carol, dave, erin; password: demo).`);
    out.push('  carol (operators) reads everything and sets OSD flags; alice (team-a) may create and delete pools named team-a-* only;');
    out.push("  a refused change shows the gateway's reason in the dashboard's own error message. Sign out from the dashboard menu.");
    out.push(`The gateway's own pages (audit log for dave, your access for everyone): ${g.pub}/gateway/`);
  } else {
    out.push('Browser login is not wired into this build yet (identity.browser_login is configured; /gateway/login does not answer).');
  }

  out.push(rule('4. audit log'));
  out.push(`Every request above is in the audit store (PGlite): ${g.auditDir}`);
  out.push(`  curl -s -H "Authorization: Bearer $DAVE" '${g.pub}/gateway/v1/audit?limit=10'`);
  out.push(`  curl -s -H "Authorization: Bearer $DAVE" '${g.pub}/gateway/v1/audit/export?format=ndjson'`);
  out.push(`After Ctrl-C (PGlite allows one process at a time): npx tsx src/cli.ts audit verify --config ${g.configPath}`);

  out.push(rule('Ctrl-C stops the gateway, the IdP and the Ceph daemons'));
  return out.join('\n');
}

export function summaryText(results: readonly CheckResult[]): string {
  const out: string[] = [rule('non-interactive run of the lines above')];
  for (const r of results) {
    const got = r.status === null ? 'no status' : String(r.status);
    out.push(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.check.method.padEnd(6)} ${r.check.path.padEnd(44)} ${(r.check.who ?? '-').padEnd(5)} expected ${r.check.expect.join('/')}, got ${got}`,
    );
    if (!r.ok) out.push(`     line: ${r.line}\n     body: ${r.body || '(empty)'}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  out.push(
    failed === 0
      ? `demo: all ${results.length} lines gave their printed status`
      : `demo: ${failed} of ${results.length} lines did not give their printed status`,
  );
  return out.join('\n');
}
