/**
 * `status` on a mixed instances group (issue 15 item 8): the policy (overrides, distribution),
 * Spot or On-Demand and the instance type per instance, and AWS's own replacers (Capacity
 * Rebalancing, the maximum instance lifetime); a plain group shows none of it.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../orchestrator/cli';
import { writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { Sandbox } from '../../orchestrator/sandbox';
import { capture as io } from '../helpers/io';

function stateFile(): string {
  const sandbox = Sandbox.create({ seed: 3 });
  sandbox.seedGroup({
    name: 'qa-web', capacity: 4, elb: { name: 'qa-web' }, capacityRebalance: true, maxInstanceLifetime: 604_800,
    mixed: { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: 'price-capacity-optimized' },
  });
  sandbox.seedGroup({ name: 'qa-plain', capacity: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-mixed-'));
  const state = path.join(dir, 'state.json');
  writeSandboxFile(state, sandbox, {});
  return state;
}

test('status: a mixed group shows its policy, Spot/On-Demand and type per instance, Capacity Rebalancing and the maximum lifetime (text and JSON)', async (t) => {
  const state = stateFile();
  const human = io();
  t.is(await main(['status', '--asg', 'qa-web', '--sandbox', '--sandbox-state', state], { stdout: human.out, stderr: human.err, signal: new AbortController().signal }), 0, human.stderr);
  t.regex(human.stdout, /mixed instances policy: m5\.large, c5\.large; On-Demand base 1 \+ 0 % above, Spot price-capacity-optimized; live: 1 On-Demand, 3 Spot/);
  t.regex(human.stdout, /AWS replaces on its own: Capacity Rebalancing, maximum instance lifetime 7 d/);
  t.is((human.stdout.match(/ spot (m5|c5)\.large/g) ?? []).length, 3);
  t.is((human.stdout.match(/ on-demand m5\.large/g) ?? []).length, 1);

  const json = io();
  t.is(await main(['status', '--asg', 'qa-web', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal: new AbortController().signal }), 0);
  const g = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.code === 'status.group').data;
  t.like(g, { capacityRebalance: true, maxInstanceLifetime: 604_800, mixed: { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: 'price-capacity-optimized', spot: 3, onDemand: 1 } });
});

test('status: a plain group has no mixed policy lines and no market per instance', async (t) => {
  const state = stateFile();
  const human = io();
  t.is(await main(['status', '--asg', 'qa-plain', '--sandbox', '--sandbox-state', state], { stdout: human.out, stderr: human.err, signal: new AbortController().signal }), 0, human.stderr);
  t.notRegex(human.stdout, /mixed instances policy|AWS replaces on its own| spot | on-demand /);
});
