/** The adapter's weighted-forward mapping (aws-sdk-client-mock on the real ELBv2 client): find, read and set weights. */
import test from 'ava';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  ElasticLoadBalancingV2Client,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { AwsAdapter, forwardWeights, withWeights } from '../../orchestrator/aws/adapter';
import { VirtualClock } from '../../orchestrator/clock';

const A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/73e2d6bc24d8a067';
const B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/0000000000000001';
const LB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188';
const L80 = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RULE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const OTHER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/1111111111111111';

function setup() {
  const opts = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const clients = { autoScaling: new AutoScalingClient(opts), ec2: new EC2Client(opts), elb: new ElasticLoadBalancingClient(opts), elbv2: new ElasticLoadBalancingV2Client(opts), s3: new S3Client(opts) };
  const elbv2 = mockClient(clients.elbv2);
  return { adapter: new AwsAdapter(clients as never, new VirtualClock()), elbv2 };
}

const weighted = (a: number, b: number): Action[] => [
  { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { Issuer: 'https://idp', AuthorizationEndpoint: 'https://idp/a', TokenEndpoint: 'https://idp/t', UserInfoEndpoint: 'https://idp/u', ClientId: 'c' } },
  { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: A, Weight: a }, { TargetGroupArn: B, Weight: b }], TargetGroupStickinessConfig: { Enabled: false } } },
];

test('forwardWeights: ForwardConfig tuples, a lone TargetGroupArn as weight 1, other actions ignored', (t) => {
  t.deepEqual(forwardWeights(weighted(100, 0)), { [A]: 100, [B]: 0 });
  t.deepEqual(forwardWeights([{ Type: 'forward', TargetGroupArn: A }]), { [A]: 1 });
  t.deepEqual(forwardWeights([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }]), {});
  t.deepEqual(forwardWeights(undefined), {});
});

test('withWeights: only the named target groups change; other actions, order and stickiness kept', (t) => {
  const out = withWeights(weighted(100, 0), { [A]: 90, [B]: 10 });
  t.deepEqual(out[0], weighted(100, 0)[0]);
  t.deepEqual(out[1], { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: A, Weight: 90 }, { TargetGroupArn: B, Weight: 10 }], TargetGroupStickinessConfig: { Enabled: false } } });
  const lone = withWeights([{ Type: 'forward', TargetGroupArn: A }], { [A]: 5 });
  t.deepEqual(lone, [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: A, Weight: 5 }] } }], 'TargetGroupArn dropped: written as ForwardConfig');
});

test('findForwards: the target groups\' load balancers → listeners (default action) and rules (the default rule skipped)', async (t) => {
  const { adapter, elbv2 } = setup();
  elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: A, LoadBalancerArns: [LB] }, { TargetGroupArn: B, LoadBalancerArns: [LB] }] });
  elbv2.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB, Type: 'application' }] });
  elbv2.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: L80, LoadBalancerArn: LB, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }] });
  elbv2.on(DescribeRulesCommand).resolves({
    Rules: [
      { RuleArn: RULE, Priority: '10', IsDefault: false, Actions: weighted(100, 0) },
      { RuleArn: `${RULE}x`, Priority: '20', IsDefault: false, Actions: [{ Type: 'forward', TargetGroupArn: OTHER }] },
      { RuleArn: `${L80}/default`, Priority: 'default', IsDefault: true, Actions: [{ Type: 'fixed-response' }] },
    ],
  });
  const found = await adapter.findForwards([A, B]);
  t.deepEqual(found, [{ kind: 'rule', arn: RULE, lbType: 'application', weights: { [A]: 100, [B]: 0 } }]);
  t.deepEqual(elbv2.commandCalls(DescribeTargetGroupsCommand)[0].args[0].input, { TargetGroupArns: [A, B] });
  t.deepEqual(elbv2.commandCalls(DescribeRulesCommand)[0].args[0].input, { ListenerArn: L80, Marker: undefined });
});

test('findForwards on an NLB: the listener\'s default action; no DescribeRules (NLB listeners have no rules)', async (t) => {
  const { adapter, elbv2 } = setup();
  elbv2.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: A, LoadBalancerArns: [LB] }] });
  elbv2.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerArn: LB, Type: 'network' }] });
  elbv2.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: L80, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: A, Weight: 1 }, { TargetGroupArn: B, Weight: 0 }] } }] }] });
  t.deepEqual(await adapter.findForwards([A, B]), [{ kind: 'listener', arn: L80, lbType: 'network', weights: { [A]: 1, [B]: 0 } }]);
  t.is(elbv2.commandCalls(DescribeRulesCommand).length, 0);
});

test('setForwardWeights: a rule → DescribeRules by ARN, then ModifyRule with the same actions and the new weights', async (t) => {
  const { adapter, elbv2 } = setup();
  elbv2.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE, Actions: weighted(100, 0) }] });
  elbv2.on(ModifyRuleCommand).resolves({});
  await adapter.setForwardWeights({ kind: 'rule', arn: RULE }, { [A]: 50, [B]: 50 });
  t.deepEqual(elbv2.commandCalls(DescribeRulesCommand)[0].args[0].input, { RuleArns: [RULE] });
  t.deepEqual(elbv2.commandCalls(ModifyRuleCommand)[0].args[0].input, { RuleArn: RULE, Actions: withWeights(weighted(100, 0), { [A]: 50, [B]: 50 }) });
});

test('setForwardWeights / readForwards: a listener → ModifyListener DefaultActions; read back by ListenerArns', async (t) => {
  const { adapter, elbv2 } = setup();
  elbv2.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: L80, DefaultActions: weighted(0, 100) }] });
  elbv2.on(ModifyListenerCommand).resolves({});
  await adapter.setForwardWeights({ kind: 'listener', arn: L80 }, { [A]: 100, [B]: 0 });
  t.deepEqual(elbv2.commandCalls(ModifyListenerCommand)[0].args[0].input, { ListenerArn: L80, DefaultActions: withWeights(weighted(0, 100), { [A]: 100, [B]: 0 }) });
  t.deepEqual(await adapter.readForwards([{ kind: 'listener', arn: L80 }]), [{ kind: 'listener', arn: L80, weights: { [A]: 0, [B]: 100 } }]);
});
