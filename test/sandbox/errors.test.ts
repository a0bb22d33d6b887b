/**
 * The sandbox's errors against the SDK's own deserializer: the same AWS error response fed to a
 * real client through a fake HTTP handler must give the same class, name, $fault, Code and
 * status as the sandbox's error. And the sandbox middleware must sit under the retry middleware.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient, DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import { Sandbox } from '../../orchestrator/sandbox';
import { SimFault, toSdkError, type ServiceName } from '../../orchestrator/sandbox/faults';

function xmlHandler(status: number, body: string) {
  return {
    handle: async () => ({ response: { statusCode: status, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) } }),
    destroy() {},
  } as any;
}

const queryError = (code: string, message: string, type = 'Sender') =>
  `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
const ec2Error = (code: string, message: string) =>
  `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r-1</RequestID></Response>`;

const cases: Array<{ service: ServiceName; code: string; status: number; body: string; send: (h: any) => Promise<unknown> }> = [
  { service: 'autoscaling', code: 'ValidationError', status: 400, body: queryError('ValidationError', 'bad'), send: (h) => asg(h).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 })) },
  { service: 'autoscaling', code: 'ResourceContention', status: 500, body: queryError('ResourceContention', 'busy', 'Receiver'), send: (h) => asg(h).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 })) },
  { service: 'autoscaling', code: 'Throttling', status: 400, body: queryError('Throttling', 'Rate exceeded'), send: (h) => asg(h).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 })) },
  { service: 'elb', code: 'LoadBalancerNotFound', status: 400, body: queryError('LoadBalancerNotFound', 'nope'), send: (h) => elb(h).send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'x' })) },
  { service: 'elb', code: 'InvalidInstance', status: 400, body: queryError('InvalidInstance', 'nope'), send: (h) => elb(h).send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'x' })) },
  { service: 'ec2', code: 'InvalidInstanceID.NotFound', status: 400, body: ec2Error('InvalidInstanceID.NotFound', 'nope'), send: (h) => ec2(h).send(new DescribeInstancesCommand({})) },
];

const common = (h: any) => ({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: h, maxAttempts: 1 });
const asg = (h: any) => new AutoScalingClient(common(h));
const elb = (h: any) => new ElasticLoadBalancingClient(common(h));
const ec2 = (h: any) => new EC2Client(common(h));

for (const c of cases) {
  test(`${c.service} ${c.code}: same shape as the SDK's deserialized error`, async (t) => {
    const real: any = await t.throwsAsync(c.send(xmlHandler(c.status, c.body)));
    const ours: any = toSdkError(c.service, new SimFault(c.code, 'nope', c.status), 'r-1');
    t.is(ours.constructor, real.constructor);
    t.is(ours.name, real.name);
    t.is(ours.$fault, real.$fault);
    t.is(ours.$metadata.httpStatusCode, real.$metadata.httpStatusCode);
    if (real.Code !== undefined) t.is(ours.Code, real.Code);
  });
}

test('the sandbox middleware sits after retryMiddleware and before signing in every client', (t) => {
  const sb = Sandbox.create();
  for (const client of Object.values(sb.clients)) {
    const stack: string[] = client.middlewareStack.identify();
    const at = (name: string) => stack.findIndex((s) => s.startsWith(name));
    t.true(at('retryMiddleware') >= 0);
    t.true(at('asgDeploySandbox') > at('retryMiddleware'), stack.join('\n'));
    t.true(at('asgDeploySandbox') < at('httpSigningMiddleware'), stack.join('\n'));
  }
});
