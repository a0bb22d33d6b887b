import test from 'ava';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

// Issue 11, bug 8: after an imageId change the preview left out the groups re-pinned to the new
// launch template version ("2 to update, 5 unchanged" against the run's "5 updated, 2 unchanged").
test.serial('a sandbox preview after an imageId change counts what the following up changes (demo config)', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-preview-' });
  const backend = w.deps().backend;
  await (await backend.open('demo', { create: true, configFile: w.config('ami-0demo1') })).up();

  const stack = await backend.open('demo', { configFile: w.config('ami-0demo2') });
  const preview = await stack.preview();
  const up = await stack.up();
  // Unchanged: rabbit's classic ELB, web's ALB, its listener and its 2 target groups.
  t.deepEqual(up.changeSummary, { update: 5, same: 5 }, 'two templates and three re-pinned groups');
  t.deepEqual(preview.changeSummary, up.changeSummary);
  const names = (cs: { op: string; type: string; name: string }[]) => cs.map((c) => `${c.op} ${c.type} ${c.name}`).sort();
  t.deepEqual(names(preview.changes), names(up.changes));
});
