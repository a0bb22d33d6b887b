/**
 * deploy's check of the existing listeners the services add rules to (issue 14, bad input): the
 * listener exists (else exit 2) and the rule's priority is free or the service's own (else exit 3),
 * before pulumi up. The pure verdict as a table; the adapter's read against the simulated ELBv2.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import type { ListenerRuleView } from '../../orchestrator/aws/port';
import { ExitCode } from '../../orchestrator/errors';
import { Sandbox } from '../../orchestrator/sandbox';
import { awsListenerReader, judgeListener, listenerChecks, type ListenerCheck } from '../../orchestrator/stack/listeners';
import { parseServices } from '../../infra/config';

const L = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const tg = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`;
const check: ListenerCheck = { service: 'shop', listenerArn: L, priority: 20, targetGroups: ['qa-shop-a', 'qa-shop-b'] };
const rule = (priority: number, ...groups: string[]): ListenerRuleView => ({ arn: `${L.replace(':listener/', ':listener-rule/')}/r${priority}`, priority, targetGroupArns: groups.map(tg) });

const rows: Array<{ title: string; rules: ListenerRuleView[] | undefined; code?: string; exit?: ExitCode; mentions?: RegExp[] }> = [
  { title: 'the listener does not exist', rules: undefined, code: 'deploy.listener-not-found', exit: ExitCode.badInput, mentions: [/service "shop": elbv2.listenerArn .* does not exist/, /nothing was changed/] },
  { title: 'the priority is free', rules: [rule(1, 'other'), rule(10, 'qa-api')] },
  { title: 'no rule at all', rules: [] },
  { title: 'the priority is held by the service\'s own rule (an earlier update)', rules: [rule(20, 'qa-shop-a', 'qa-shop-b')] },
  { title: 'the priority is held by another service\'s rule', rules: [rule(1, 'other'), rule(20, 'other-team')], code: 'deploy.rule-priority-taken', exit: ExitCode.refused, mentions: [/priority 20 .* is taken by rule .*\/r20 \(forwarding to other-team\)/, /taken: 1, 20/] },
  { title: 'held by a rule forwarding to one of ours and another', rules: [rule(20, 'qa-shop-a', 'other-team')], code: 'deploy.rule-priority-taken', exit: ExitCode.refused },
  { title: 'held by a rule that forwards nowhere (a fixed response)', rules: [rule(20)], code: 'deploy.rule-priority-taken', exit: ExitCode.refused, mentions: [/forwarding to no target group/] },
];

for (const r of rows) {
  test(`judgeListener: ${r.title}`, (t) => {
    const verdict = judgeListener(check, r.rules);
    if (!r.code) return t.is(verdict, undefined);
    t.is(verdict?.code, r.code);
    t.is(verdict?.exit, r.exit);
    for (const m of r.mentions ?? []) t.regex(verdict!.message, m);
  });
}

test('listenerChecks: the rules the stack adds to existing listeners, with the target groups each forwards to', (t) => {
  const base = { imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 2, subnets: ['subnet-0a1', 'subnet-0b2'] };
  const services = parseServices({
    shop: { ...base, strategy: 'ab', elbv2: { listenerArn: L, rule: { priority: 20, hostHeaders: ['shop.example.com'] } } },
    api: { ...base, strategy: 'rolling', elbv2: { listenerArn: L, rule: { priority: 10, pathPatterns: ['/api/*'] } } },
    web: { ...base, strategy: 'ab', elbv2: { type: 'application' } },
  }, 'qa');
  t.deepEqual(listenerChecks(services), [
    { service: 'shop', listenerArn: L, priority: 20, targetGroups: ['qa-shop-a', 'qa-shop-b'] },
    { service: 'api', listenerArn: L, priority: 10, targetGroups: ['qa-api'] },
  ]);
});

test('awsListenerReader on the simulated ELBv2: a missing listener and a taken priority, read with DescribeListeners and DescribeRules only', async (t) => {
  const sb = Sandbox.create({ seed: 3 });
  const shared = sb.seedTargetGroups({ name: 'shared', targetGroups: [{ name: 'other-team' }], rulePriority: 20 });
  const port = createAwsPort(sb.newClients('tool'), sb.clock);
  const reader = awsListenerReader(port);
  t.is((await reader.refusal([{ ...check, listenerArn: shared.listenerArn, priority: 21 }])), undefined);
  const taken = await reader.refusal([{ ...check, listenerArn: shared.listenerArn }]);
  t.is(taken?.code, 'deploy.rule-priority-taken');
  const missing = await reader.refusal([{ ...check, listenerArn: shared.listenerArn.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')) }]);
  t.is(missing?.code, 'deploy.listener-not-found');
  const ops = sb.calls.filter((c) => c.actor === 'tool').map((c) => c.operation);
  t.deepEqual([...new Set(ops)].sort(), ['DescribeListeners', 'DescribeRules']);
  t.false(sb.calls.some((c) => c.actor === 'tool' && c.mutating));
});
