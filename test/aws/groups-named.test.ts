/**
 * `groupsNamed` (which groups an environment's lock covers: `ENV`, `ENV-a`, `ENV-b`) follows
 * DescribeAutoScalingGroups' NextToken: AWS may answer with fewer groups than MaxRecords per page
 * (the sandbox's small-pages fault). It read one page only, so with 1-item pages the lock of an
 * environment beside a group named like it missed its -b color (chaos seed 978985500: a crashed
 * run's lock tag stayed on chaos-ab-b after `unlock --force`, the re-run refused as locked).
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { environmentGroups } from '../../orchestrator/lock/lock';
import { Sandbox } from '../../orchestrator/sandbox';

test('groupsNamed finds every named group across pages of one', async (t) => {
  const sb = Sandbox.create({ seed: 1, pageSize: 1 });
  for (const name of ['qa', 'qa-a', 'qa-b', 'other']) sb.seedGroup({ name, capacity: 0, launchTemplateName: `${name}-lt` });
  const port = createAwsPort(sb.clients, sb.clock);
  t.deepEqual(await port.groupsNamed(['qa', 'qa-a', 'qa-b', 'missing']), ['qa', 'qa-a', 'qa-b']);
  t.deepEqual(await environmentGroups(port, 'qa'), ['qa', 'qa-a', 'qa-b']);
});
