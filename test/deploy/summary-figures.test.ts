/** Issue 11, bug 9: the summary row and the rollout's final line give the same figures (one source each). */
import test from 'ava';
import { Codes } from '../../orchestrator/report/reporter';
import { DeployCodes, renderSummary, type SummaryRow } from '../../orchestrator/report/summary';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

test('deploy v2 on the sandbox: each service\'s summary row has the seconds and API calls of its rollout.done line', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-figures-' });
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0demo1') }, w.deps());
  const mark = w.reporter.events.length;
  const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0demo2') }, w.deps());
  t.is(out.exit, 0);
  const events = w.reporter.events.slice(mark);
  const rows = events.find((e) => e.code === DeployCodes.summary)!.data.rows as SummaryRow[];
  const done = events.filter((e) => e.code === Codes.done);
  t.deepEqual(rows.map((r) => [r.service, r.result]), [['rabbit', 'done'], ['web', 'done']]);
  for (const row of rows) {
    const line = done.find((e) => e.data.service === row.service)!;
    t.truthy(line, `${row.service}: a rollout.done line`);
    t.is<unknown, unknown>(row.seconds, line.data.seconds, `${row.service}: duration`);
    t.is<unknown, unknown>(row.apiCalls, line.data.apiCalls, `${row.service}: API calls`);
    t.true(line.message.endsWith(`in ${row.seconds} s, ${row.apiCalls} API calls`), `${row.service}: the final line says the row's figures: ${line.message}`);
  }
  // The printed table shows the same figures.
  const table = renderSummary(rows);
  for (const row of rows) t.regex(table, new RegExp(`${row.service}\\s.*\\s${row.apiCalls}\\s`));
});
