/**
 * One adapter looks at several groups at once: an A/B plan reads both colors together
 * (stack/hooks.ts), `deploy --parallel` rolls services side by side on one port. The EC2 facts
 * cache is shared; a look read everything after its group read at once, so another group's look
 * could evict this group's fresh facts while its other reads were in flight, and its instances came
 * back without LaunchTime, state or version (chaos ab seed 563083520: an instance in Standby
 * terminated; found by the second review of this round). Each look now keeps its own facts as EC2
 * answered, and an id leaves the cache only when no group's latest read has it.
 * On the simulated AWS with API latency [FAULT-15], 40 seeds each.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { AwsAdapter } from '../../orchestrator/aws/adapter';

// Every instance must keep its EC2 facts (launch time, launched-from version).
test('an A/B plan\'s two colors observed at once (the other color empty): the active color keeps its EC2 facts', async (t) => {
  const bad: string[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const sb = Sandbox.create({ seed, faults: { bootSeconds: 10 } });
    sb.seedGroup({ name: 'qa-a', capacity: 3, max: 3 });
    sb.seedGroup({ name: 'qa-b', capacity: 0, max: 3 });
    sb.advance(600_000);
    sb.world.faults.apiLatencyMs = { min: 20, max: 600 };
    const port = new AwsAdapter(sb.newClients('tool'), sb.clock);
    const [a] = await Promise.all([port.observeGroup('qa-a', { elbHealth: false }), port.observeGroup('qa-b', { elbHealth: false })]);
    for (const i of a.instances) if (i.launchTime === undefined || i.ec2State === undefined) bad.push(`seed ${seed} ${i.instanceId}: launchTime ${i.launchTime} ec2State ${i.ec2State} ip ${i.privateIpAddress}`);
  }
  t.deepEqual(bad, []);
});

test('concurrent observeGroup of two groups: no instance loses its EC2 facts', async (t) => {
  const bad: string[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const sb = Sandbox.create({ seed, faults: { bootSeconds: 10 } });
    sb.seedGroup({ name: 'qa-a', capacity: 3, max: 3 });
    sb.seedGroup({ name: 'qa-b', capacity: 3, max: 3 });
    sb.advance(600_000);
    sb.newLaunchTemplateVersion('qa-a-lt', { ImageId: 'ami-0fedcba9876543210' });
    sb.newLaunchTemplateVersion('qa-b-lt', { ImageId: 'ami-0fedcba9876543210' });
    sb.world.faults.apiLatencyMs = { min: 20, max: 600 };
    const port = new AwsAdapter(sb.newClients('tool'), sb.clock);
    const [a, b] = await Promise.all([port.observeGroup('qa-a', { elbHealth: false }), port.observeGroup('qa-b', { elbHealth: false })]);
    for (const g of [a, b]) {
      for (const i of g.instances) {
        if (i.launchTime === undefined || i.launchedFrom.launchTemplate?.version !== 1) bad.push(`seed ${seed} ${g.name} ${i.instanceId}: launchTime ${i.launchTime} launchedFrom ${JSON.stringify(i.launchedFrom)} (group launch ${JSON.stringify(g.launch)})`);
      }
    }
  }
  t.deepEqual(bad, []);
});
