// `cephgate config check [--probe] [--json]`: every problem of a configuration in one run, each with
// where it was set (cli/check-config.ts), and with --probe what the network says (cli/config-probe.ts).
// Exit 0: no errors; 1: errors (serve would refuse to start); 2: the file could not be read.

import { checkAll } from './check-config.ts';
import { type CheckOutcome, counts, reportJson, reportText } from './check-report.ts';
import { groupHelp, parse } from './common.ts';
import { probeAll } from './config-probe.ts';

export async function configCommand(args: string[]): Promise<number> {
  const help = groupHelp('config', args, ['check']);
  if (help !== null) return help;
  const { values } = parse(args.slice(1), { probe: { type: 'boolean' }, json: { type: 'boolean' } });
  const env = process.env;
  const report = checkAll({ path: values.config, env });
  const probes = values.probe && report.view !== null ? await probeAll(report.view, env) : null;
  const outcome: CheckOutcome = { source: report.source.label, problems: report.problems, probes };
  if (values.json) console.log(reportJson(outcome));
  else for (const line of reportText(outcome)) console.log(line);
  if (report.view === null) return 2;
  return counts(outcome).errors > 0 ? 1 : 0;
}
