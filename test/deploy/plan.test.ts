import test from 'ava';
import type { AwsPort, GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import { planAb, planRolling, outdatedOldestFirst } from '../../orchestrator/stack/hooks';
import { activeColorIsOutdated } from '../../orchestrator/rollout/ab/strategy';
import type { AbServiceManifest, RollingServiceManifest } from '../../orchestrator/stack/manifest';

const inst = (id: string, version: number, launchTime: number): InstanceView => ({
  instanceId: id, availabilityZone: 'us-east-1a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: false,
  launchedFrom: { launchTemplate: { id: 'lt-1', version } }, launchTime, elb: {},
});
const group = (name: string, version: number, instances: InstanceView[], desired = instances.length): GroupSnapshot => ({
  name, observedAt: 0, desired, min: 0, max: 10, launch: { launchTemplate: { id: 'lt-1', version } }, mixedInstancesPolicy: false,
  healthCheckType: 'EC2', healthCheckGracePeriod: 0, availabilityZones: [], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], tags: {}, instances,
});
/** A read-only port: any mutating call fails the test. */
function port(groups: GroupSnapshot[]): AwsPort {
  return new Proxy({} as AwsPort, {
    get(_, prop) {
      if (prop === 'observeGroup') return async (name: string) => groups.find((g) => g.name === name)!;
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`mutating or unexpected call ${String(prop)} in a dry run`);
      };
    },
  });
}
const rabbit = { service: 'rabbit', strategy: 'rolling', name: 'qa-rabbit', asgName: 'qa-rabbit', launchTemplate: { id: 'lt-1', name: 'qa-rabbit', version: 2 }, rollout: { minHealthy: 2, surge: 1 } } as RollingServiceManifest;
const web = { service: 'web', strategy: 'ab', name: 'qa-web', environment: 'qa-web', capacity: 8, asgNames: { a: 'qa-web-a', b: 'qa-web-b' }, launchTemplate: { id: 'lt-1', name: 'qa-web', version: 2 }, rollout: {} } as AbServiceManifest;
const ltChange = (name: string) => [{ op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name, diffs: ['imageId'] }];

test('rolling plan: a previewed launch template change replaces every instance, oldest first', async (t) => {
  const g = group('qa-rabbit', 1, [inst('i-b', 1, 200), inst('i-c', 1, 300), inst('i-a', 1, 100)]);
  const plan = await planRolling(port([g]), rabbit, { changes: ltChange('qa-rabbit'), force: false });
  t.is(plan.action, 'roll');
  t.deepEqual(plan.instances, ['i-a', 'i-b', 'i-c']);
  t.regex(plan.summary, /^rabbit: would replace i-a, i-b, i-c oldest first, surge 1/);
});

test('rolling plan without a change: only instances not on the current version; none → up to date', async (t) => {
  const mixed = group('qa-rabbit', 2, [inst('i-new', 2, 50), inst('i-old', 1, 100)]);
  t.deepEqual((await planRolling(port([mixed]), rabbit, { changes: [], force: false })).instances, ['i-old']);
  const current = group('qa-rabbit', 2, [inst('i-new', 2, 50)]);
  const plan = await planRolling(port([current]), rabbit, { changes: ltChange('qa-other'), force: false });
  t.is(plan.action, 'none');
});

test('ab plan: swap from the active color when the template changes; --force swaps an up-to-date color', async (t) => {
  const a = group('qa-web-a', 2, Array.from({ length: 8 }, (_, i) => inst(`i-${i}`, 2, i)));
  const b = group('qa-web-b', 2, []);
  t.is((await planAb(port([a, b]), web, { changes: ltChange('qa-web'), force: false })).summary, 'web: would swap a → b, 8 instances, then drain a');
  t.is((await planAb(port([a, b]), web, { changes: [], force: false })).action, 'none');
  t.regex((await planAb(port([a, b]), web, { changes: [], force: true })).summary, /would swap a → b.*\(--force\)/);
  const fromB = await planAb(port([group('qa-web-a', 2, []), group('qa-web-b', 2, [inst('i-9', 1, 1)])]), web, { changes: [], force: false });
  t.regex(fromB.summary, /would swap b → a/);
});

test('the ab hook\'s decision (activeColorIsOutdated): after up both colors are pinned to the new version', (t) => {
  // After `pulumi up` the manifest's version is the groups' version: the active color is outdated
  // when its instances are not on it.
  const rows: Array<[string, GroupSnapshot, GroupSnapshot, boolean]> = [
    ['a serves v1, groups pinned to v2', group('qa-web-a', 2, [inst('i-1', 1, 1)]), group('qa-web-b', 2, []), true],
    ['a serves v2', group('qa-web-a', 2, [inst('i-1', 2, 1)]), group('qa-web-b', 2, []), false],
    ['b serves v1', group('qa-web-a', 2, []), group('qa-web-b', 2, [inst('i-1', 1, 1)]), true],
    ['neither populated (first deploy)', group('qa-web-a', 2, []), group('qa-web-b', 2, []), true],
  ];
  for (const [name, a, b, expected] of rows) t.is(activeColorIsOutdated(a, b), expected, name);
  t.deepEqual(outdatedOldestFirst(group('g', 2, [inst('x', 1, 5), inst('y', 2, 1)]), false).map((i) => i.instanceId), ['x']);
});
