/**
 * The XML the engine-memory probe feeds the SDK (orchestrator/proof/wire.ts) is AWS's wire
 * format as the SDK reads it: each body, decoded by the real client through a fake HTTP handler,
 * gives back the simulation's own answer; error bodies give the SDK's own error classes.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeInstanceHealthCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { Sandbox } from '../../orchestrator/sandbox';
import { errorXml, responseXml, type WireService } from '../../orchestrator/proof/wire';

function handler(status: number, body: string) {
  return {
    handle: async () => ({ response: { statusCode: status, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) } }),
    destroy() {},
  } as never;
}
const common = (h: never) => ({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: h, maxAttempts: 1 });
const send: Record<WireService, (h: never, command: never) => Promise<Record<string, unknown>>> = {
  autoscaling: (h, c) => new AutoScalingClient(common(h)).send(c) as Promise<never>,
  ec2: (h, c) => new EC2Client(common(h)).send(c) as Promise<never>,
  elb: (h, c) => new ElasticLoadBalancingClient(common(h)).send(c) as Promise<never>,
};

function strip(o: Record<string, unknown>): Record<string, unknown> {
  const { $metadata: _m, ...rest } = o;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

async function world(): Promise<{ sb: Sandbox; ids: string[] }> {
  const sb = Sandbox.create({ seed: 7 });
  sb.seedGroup({ name: 'web', capacity: 3, elb: { name: 'web-elb' } });
  const g = await sb.invoke('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web'] }, 'test');
  return { sb, ids: g.AutoScalingGroups[0].Instances.map((i: { InstanceId: string }) => i.InstanceId) };
}

const cases: Array<{ service: WireService; operation: string; input: (ids: string[]) => Record<string, unknown>; command: (input: any) => unknown }> = [
  { service: 'autoscaling', operation: 'DescribeAutoScalingGroups', input: () => ({ AutoScalingGroupNames: ['web'] }), command: (i) => new DescribeAutoScalingGroupsCommand(i) },
  { service: 'autoscaling', operation: 'DescribeAutoScalingInstances', input: (ids) => ({ InstanceIds: ids }), command: (i) => new DescribeAutoScalingInstancesCommand(i) },
  { service: 'ec2', operation: 'DescribeInstances', input: (ids) => ({ InstanceIds: ids }), command: (i) => new DescribeInstancesCommand(i) },
  { service: 'elb', operation: 'DescribeInstanceHealth', input: () => ({ LoadBalancerName: 'web-elb' }), command: (i) => new DescribeInstanceHealthCommand(i) },
];

for (const c of cases) {
  test(`${c.service} ${c.operation}: the XML body decodes, by the real client, to the simulation's answer`, async (t) => {
    const { sb, ids } = await world();
    const input = c.input(ids);
    const answer = await sb.invoke(c.service, c.operation, input, 'test');
    const body = responseXml(c.service, c.operation, answer, 'req-1');
    t.regex(body, new RegExp(`^<${c.operation}Response xmlns="http://`));
    const decoded = await send[c.service](handler(200, body), c.command(input) as never);
    t.deepEqual(strip(decoded), strip(answer));
    t.regex(body, /<(RequestId|requestId)>req-1</);
    t.true(JSON.stringify(strip(answer)).length > 50, 'a non-trivial answer');
  });
}

test('an operation without output members answers the envelope only', async (t) => {
  const body = responseXml('autoscaling', 'SetDesiredCapacity', {}, 'req-2');
  t.is(body, '<SetDesiredCapacityResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></SetDesiredCapacityResponse>');
  const out = await send.autoscaling(handler(200, body), new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }) as never);
  t.is((out.$metadata as { httpStatusCode?: number }).httpStatusCode, 200);
});

test('error bodies give the SDK its own errors (Query and EC2 shapes)', async (t) => {
  const throttled: any = await t.throwsAsync(send.autoscaling(handler(400, errorXml('autoscaling', 'Throttling', 'Rate exceeded', 'client', 'r')), new DescribeAutoScalingGroupsCommand({}) as never));
  t.is(throttled.name, 'Throttling');
  t.is(throttled.$metadata.httpStatusCode, 400);
  const missing: any = await t.throwsAsync(send.ec2(handler(400, errorXml('ec2', 'InvalidInstanceID.NotFound', "The instance ID 'i-1' does not exist", 'client', 'r')), new DescribeInstancesCommand({}) as never));
  t.is(missing.name, 'InvalidInstanceID.NotFound');
  t.regex(missing.message, /i-1/);
});
