/**
 * The chaos suite in `npm test`: a fixed-seed subset of the randomized runs (our real engines on
 * the simulated AWS), determinism of a replay, and proof that the checker fails: deliberately
 * unsafe tools run through the same harness and must be caught from the safety monitor's record.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { formatReport, runChaos } from '../../orchestrator/proof/chaos';
import { runScenario, type ToolInvocation } from '../../orchestrator/proof/run';
import { describeScenario, expectationOf, generateScenario, type Scenario } from '../../orchestrator/proof/scenario';
import { CALM_FAULTS } from '../helpers/chaos-scenario';
import { seedOf } from '../../orchestrator/proof/prng';
import { chooseKeep } from '../../orchestrator/rollout/ab/strategy';
import { DeployError, interruptedError, refusedError } from '../../orchestrator/errors';
import { DeregisterInstancesFromLoadBalancerCommand, RegisterInstancesWithLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';
import { isLive, isOutdated } from '../../orchestrator/rollout/rolling/strategy';
import { abDeploy } from '../../orchestrator/rollout/ab/runner';
import type { RolloutResult } from '../../orchestrator/rollout/result';

/** The fixed subset: master seed and size. Replay any of it with `npm run chaos -- --runs 24 --seed 2026`. */
const SUBSET = { seed: 2026, runs: 24 };

test.serial('chaos subset: every invariant holds on 24 fixed-seed randomized runs', async (t) => {
  const results = await runChaos({ ...SUBSET, jobs: 1 });
  const report = formatReport(results, `chaos subset (npm run chaos -- --runs ${SUBSET.runs} --seed ${SUBSET.seed})`);
  const last = report.trimEnd().split('\n').pop()!;
  t.regex(last, /^\d+ passed, \d+ failed$/);
  const failed = results.filter((r) => r.violations.length > 0);
  if (failed.length) t.log(report);
  t.is(failed.length, 0, last);
});

/**
 * Seeds the engine owners reported as checker gaps (round 3): a first-deploy SIGINT scale-back,
 * AWS's AZ rebalancing after the hand-back, A/B SIGINT scale-backs right after spontaneous
 * terminations (or an AZ rebalance finishing) on the old color. The rules behind them are tested on their own in run-facts and
 * invariants; these keep the whole runs green.
 */
const REPORTED: Array<[number, 'rolling' | 'ab']> = [
  [129505311, 'ab'],
  [2036052814, 'rolling'],
  [669796757, 'rolling'],
  [1866548397, 'rolling'],
  [3289307384, 'ab'],
  [2283647944, 'ab'],
  [3332502266, 'ab'], // found in round 3: an AZ rebalance in flight when the tool suspended it ends on the old color
  [2959736548, 'rolling'], // integration: a throttle storm + ScalingActivityInProgress spent the 10 cleanup steps on retries (desired left raised)
  [1921101647, 'ab'], // issue 10 round 4: --rollback's stand-in stopped serving; b stayed raised with the swap record (tool fixed: rollout/ab.ts)
  [1267799361, 'rolling'], // issue 10 (seed 4242): SIGINT cleanup left desired 13 of 12 — AWS's own rebalancing launch Pending, every old node needed for min healthy; the cleanup now waits for it to settle
  [2499467542, 'ab'], // issue 14: SIGINT at a traffic step while AWS replaced one of the old color's 10: the new color's stand-ins keep their share of the weights until it serves 10 again
  [178954298, 'ab'], // issue 14 (checker): a first deploy's color holds the program's initial weight; its SIGINT scale-back is not a scale-in under weight
  [1552258353, 'rolling'], // merge of issues 12/15: a light look hid someone's Standby put-back from the capacity-following (the light look was taken out)
  [1286230809, 'rolling'], // issue 15 (checker): protection someone removed showed as a leftover between an interrupted run and its re-run
  [1467129630, 'rolling'], // issue 16 (harness): an alarm tripped at the tool's first read is in ALARM at its start — the refusal is correct
  [952308284, 'rolling'], // issue 10 (seed 2027): back to capacity lowered desired and AWS's termination policy took a healthy up-to-date instance; now an explicit surplus pick with decrement
  [3994021010, 'rolling'], // issue 10 (seed 2027): someone's Standby enter + exit between two looks raised desired unseen; the tool took it back as surge (now: AWS's ExitStandby activity, the capacity follows)
  [1121815054, 'rolling'], // issue 10 (seed 7): done while an instance put back from Standby was still coming back into service (now waited for, bounded by the step timeout)
  [326880920, 'ab'], // issue 10 (seed 7, checker): the new version's app failed after passing between the drain call and AWS's scale-in; judged on what the tool saw at its call
  [1818288112, 'ab'], // issue 10 item 9 (class standby-in-color, seed 4242): an old-color instance put back in service during the drain (desired 0 → 1) hung the committed swap; now drained anew
  [3480399585, 'ab'], // the same (seed 2027), on NLB target groups
  [3074688965, 'rolling'], // issue 10 round 4: template changed mid-roll + SIGINT re-run ended 7/6/5 — oldest first among distinct LaunchTimes (checker: balance not promised there); since the --rollback draw, also the operator's re-run without --rollback after rollback-several-versions
  [1582086282, 'ab'], // issue 16 (seed 4242, checker): --keep-old switched back after AWS took a new instance in the window; the scale-back of the new color is the switch-back, not an unplanned termination
  [1799852234, 'rolling'], // issue 16 (seed 2027, checker): --rollback, fails-after-healthy, 70 min: the first new instance's failed application was read after EC2 had purged it (an hour after its termination), so its loss was not excused; the checker keeps instance facts
  [2652491239, 'rolling'], // the same (seed 2027; SIGINT and re-run, checkpoints)
  [1232876377, 'rolling'], // issue 16 (seed 2027, checker): someone's ExitStandby during the re-run that finished an interrupted rollback raised desired to 12 of 11; the rollback is judged against the size plus the put-backs, as every run
  [347261232, 'rolling'], // issue 15 (seed 99, checker): someone put a Standby instance back 1.5 s after the tool handed the group back (--standby ignore, done at its last look); theirs, not an outdated instance left by the tool
  [2380164686, 'rolling'], // issue 10 (seed 14, checker): a long run (2.7 h) whose failed new instance was purged before judging (as 1799852234); since the --rollback draw, the operator's re-run without --rollback is judged without a rollback to report
  [1888125415, 'rolling'], // issue 14 (seed 7, checker; ALB target group, AWS defaults): a rollback done while someone's Standby instance was put back (ExitStandby: desired + 1) — desired 48 of 47 is theirs, as the real-world judgement allows
  [3564783887, 'rolling'], // issues 10/15 (seed 4242, checker): a template version published after the re-run's last launch (done on the version rolled out: either version counts) with --protected ignore and a Standby put back — the two judgements apart left the protected outdated instances the policy skipped "stale"
  [3935578497, 'rolling'], // issues 10/15 (seed 9001): template changed mid-run + SIGINT re-run, two outdated (the first run's version) failing after passing left 17 healthy of --min-healthy 18; the re-run refused to take even those (a negative budget) and exited 3 after it had acted — now the unhealthy ones go (they cost no healthy capacity), a refusal after the run acted is a halt (exit 1), and the checker counts a refused attempt's own terminations only
  [3839052769, 'rolling'], // issue 15 (seed 2027, checker): done at the recorded desired 16 after someone's ExitStandby (desired 17) with --standby wait / --protected wait — the tool took the surplus back, which the leftover rule allowed and the final-capacity rule did not
  [3270877186, 'rolling'], // the same (seed 4242; warm pool, launch hook timing out, --standby ignore, --rollback)
  [2227145015, 'ab'], // A/B (seed 2027; ALB --traffic-steps, throttle storm): the raise 55 → 100 % was sent on a read of the new color ~16 s old whose only target had failed meanwhile; a raise is now sent only on a fresh read, once
  [1996067550, 'rolling'], // issue 15 (checker): someone put an up-to-date instance into Standby 111 s after done, while the tool's lock release rode out a throttle storm — after its last look; the end (9 live of 10, AWS's replacement not yet launched) was judged against the tool. The group it left counts that instance; AWS's replacement is AWS's
  [2494373250, 'rolling'], // issue 15 (checker; warm pool, SIGINT + re-run): the re-run's one outdated instance sat in b with a 1, b 1, c 1; AWS's tie-break put the surge in a and b's had to go → 2/0/1. Balance there was AWS's pick, not the tool's: judged only where the tool can end balanced whatever the tie-break (balance.ts)
  [4104625807, 'ab'], // A/B (seed 140432538, harness): clean-up-confirm drawn where the color --clean-up would drain still carries weight; the tool refuses before asking (exit 3, drain-carries-weight), which the checker accepts when the forward really weights that color
  [1907761789, 'ab'], // issue 10 defect 1 class (via deploy, harness): halted on its own (new color left for inspection, record deleted) 72 s before the SIGINT, which came during the throttled lock release; re-run as if interrupted, its documented "both populated" refusal was judged a re-run not finished
];

test.serial('the seeds reported as checker gaps pass', async (t) => {
  for (const [seed, strategy] of REPORTED) {
    const r = await runScenario(generateScenario(seed, strategy));
    t.deepEqual(r.violations, [], `seed ${seed} (${strategy})`);
  }
});

test.serial('classic ELBs, crash + re-run whose halt keeps a stand-in of the new color (the old color short): the swap record it keeps is followed by the operator\'s re-run, which finishes (seed 1776321503 of session 14, A/B, on classic ELBs)', async (t) => {
  // The run as found before target groups were drawn for it: classic ELBs, kill -9 early. (After 8
  // calls since a throttled scale-in is decided anew on a fresh look — chaos seed 3119806818 — the
  // extra reads move the sandbox's draws: killed after 5, the re-run's stand-in is now released
  // within its wait and no third run is needed; after 8 the path pinned here was taken again —
  // and after 29 once each look kept its own EC2 facts (adapter.ts), which moved the order of the
  // sandbox's calls: killed after 3–28 or 30–40, the re-run halts without keeping a stand-in.)
  const s = { ...generateScenario(1776321503, 'ab'), targetGroups: undefined, interruption: { kind: 'crash' as const, afterCalls: 29 } };
  const r = await runScenario(s);
  t.deepEqual(r.violations, []);
  t.is(r.attempts.length, 3, 'crash, the re-run that halted keeping the record, the operator\'s re-run');
  t.regex(r.attempts[1]?.message ?? '', /stand in for chaos-ab-a's missing/, 'the re-run halted keeping a stand-in (the path pinned here)');
});

test.serial('launches that never succeed halt a rolling run on a warm-pool group: filling the pool is a launch and fails too (seeds 94574224 and 2408045856 of 2027)', async (t) => {
  // Before: the sandbox filled the warm pool from the new launch spec despite FAULT-3, the rollout
  // took those warmed instances and finished (exit 0).
  for (const seed of [94574224, 2408045856]) {
    const r = await runScenario(generateScenario(seed, 'rolling'));
    t.deepEqual(r.violations, [], `seed ${seed}`);
    t.is(r.exit, 1, `seed ${seed}: halted`);
  }
});

test.serial('a replay of the same seed is the same run', async (t) => {
  const s = generateScenario(424242, 'rolling');
  const a = await runScenario(s);
  const b = await runScenario(s);
  t.deepEqual(
    { exit: a.exit, sim: a.simulatedSeconds, calls: a.apiCalls, v: a.violations },
    { exit: b.exit, sim: b.simulatedSeconds, calls: b.apiCalls, v: b.violations },
  );
});

/** A fault-free rolling scenario of `size` instances, surge 1. */
function clean(size: number, over: Partial<Scenario> = {}): Scenario {
  const base = generateScenario(99, 'rolling');
  const s: Scenario = {
    ...base,
    size,
    surge: 1,
    batchSize: 1,
    minHealthy: undefined,
    dryRun: false,
    interruption: { kind: 'none' },
    faults: { ...CALM_FAULTS },
    healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 },
    drainingTimeout: 0,
    ...over,
  };
  s.expect = expectationOf(s);
  s.tags = ['clean'];
  return s;
}

const engine = (i: ToolInvocation): Promise<RolloutResult> =>
  rollGroup({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, asg: i.target, surge: i.scenario.surge, batchSize: i.scenario.batchSize, dryRun: i.scenario.dryRun });

const result = (target: string): RolloutResult => ({ status: 'done', target, strategy: 'rolling', replaced: [], seconds: 0, apiCalls: 0, summary: 'sabotage' });

test.serial('the harness passes our engine on a clean scenario (control)', async (t) => {
  const r = await runScenario(clean(4), { tool: engine });
  t.deepEqual(r.violations, []);
  t.is(r.exit, 0);
});

const sabotage: Array<{ name: string; scenario: Scenario; code: string; tool: (i: ToolInvocation) => Promise<RolloutResult> }> = [
  {
    name: 'terminating every old instance at once (no replacement first)',
    scenario: clean(4),
    code: 'min-healthy',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      for (const inst of g.instances) await port.terminateInstance(inst.instanceId, false);
      await i.sandbox.clock.sleep(600_000);
      return result(i.target);
    },
  },
  {
    name: 'terminating a healthy up-to-date instance after the rollout',
    scenario: clean(3),
    code: 'terminated-healthy-up-to-date',
    tool: async (i) => {
      const r = await engine(i);
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      await port.terminateInstance((g.instances.find((x) => x.lifecycleState === 'InService') ?? g.instances[0]).instanceId, false);
      await i.sandbox.clock.sleep(600_000);
      return r;
    },
  },
  {
    // Invariant 2's one exception is a surplus pick at back to capacity (issue 10): with decrement
    // after the rollout there is no surplus left, so the pick leaves the group short and is caught.
    name: 'terminating a healthy up-to-date instance with decrement after the rollout (no surplus left)',
    scenario: clean(3),
    code: 'terminated-healthy-up-to-date',
    tool: async (i) => {
      const r = await engine(i);
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      await port.terminateInstance((g.instances.find((x) => x.lifecycleState === 'InService') ?? g.instances[0]).instanceId, true);
      await i.sandbox.clock.sleep(600_000);
      return r;
    },
  },
  {
    name: 'leaving AZRebalance suspended',
    scenario: clean(3),
    code: 'leftover',
    tool: async (i) => {
      const r = await engine(i);
      await createAwsPort(i.clients, i.sandbox.clock).suspendProcesses(i.target, ['AZRebalance']);
      return r;
    },
  },
  {
    name: 'a dry run that changes desired',
    scenario: clean(3, { dryRun: true }),
    code: 'dry-run-mutated',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      await port.setDesired(i.target, g.desired);
      return { ...result(i.target), status: 'planned' };
    },
  },
  {
    // Judged over time whatever the faults (issue 10): with spontaneous terminations in play, the
    // checker used to skip the timeline and judge only the tool's terminations — this one has none.
    name: 'taking healthy instances out of the load balancer in a scenario where AWS also terminates instances by itself',
    scenario: clean(4, { faults: { ...clean(4).faults, spontaneousTerminationsPerHour: 0.3 } }),
    code: 'min-healthy',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      const instances = g.instances.slice(0, 2).map((x) => ({ InstanceId: x.instanceId }));
      const elb = g.loadBalancerNames[0];
      await i.clients.elb.send(new DeregisterInstancesFromLoadBalancerCommand({ LoadBalancerName: elb, Instances: instances }));
      await i.sandbox.clock.sleep(120_000);
      await i.clients.elb.send(new RegisterInstancesWithLoadBalancerCommand({ LoadBalancerName: elb, Instances: instances }));
      await i.sandbox.clock.sleep(120_000);
      return engine(i);
    },
  },
  {
    name: 'a refused run that writes something besides the lock',
    scenario: clean(4, { surge: 0, batchSize: 1, minHealthy: 4 }),
    code: 'refused-mutated',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const g = await port.observeGroup(i.target);
      await port.setDesired(i.target, g.desired); // "no change", but a mutating call all the same
      throw refusedError('below-min-healthy', 'refused');
    },
  },
  {
    // "Ended balanced" (issue 10) stays judged on a fresh fleet, where the tool can always steer
    // (balance.ts): this tool replaces the outdated instance in the zone its surge landed in
    // (else the first by id) — 3 instances a, b, c end 2/1/0 on the sandbox's tie-breaks.
    name: 'ignoring the zones when choosing which outdated instance goes (one per step, surge 1)',
    scenario: clean(3),
    code: 'unbalanced',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const size = i.scenario.size;
      await port.suspendProcesses(i.target, ['AZRebalance']);
      await port.updateSizes(i.target, { max: size + 1 });
      for (;;) {
        let g = await port.observeGroup(i.target);
        const outdated = () => g.instances.filter((x) => isLive(x) && isOutdated(x, g)).sort((a, b) => a.instanceId.localeCompare(b.instanceId));
        if (outdated().length === 0) break;
        const before = new Set(g.instances.map((x) => x.instanceId));
        await port.setDesired(i.target, size + 1);
        await i.sandbox.clock.sleep(300_000); // booted and in service behind the ELB
        g = await port.observeGroup(i.target);
        const surge = g.instances.find((x) => !before.has(x.instanceId));
        const victim = outdated().find((x) => x.availabilityZone === surge?.availabilityZone) ?? outdated()[0];
        await port.terminateInstance(victim.instanceId, true);
        await i.sandbox.clock.sleep(120_000);
      }
      await port.updateSizes(i.target, { max: size });
      await port.resumeProcesses(i.target, ['AZRebalance']);
      return result(i.target);
    },
  },
  {
    name: 'claiming done while the new image never became healthy',
    scenario: clean(3, { faults: { ...clean(3).faults, badImage: true } }),
    code: 'not-halted',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      await port.updateSizes(i.target, { max: 4, desired: 4 });
      await i.sandbox.clock.sleep(300_000);
      await port.updateSizes(i.target, { max: 3, desired: 3 });
      return result(i.target);
    },
  },
];

/** An A/B swap on ALB target groups (issue 14), a → b, 3 instances, no faults. */
function cleanWeighted(): Scenario {
  return clean(3, { strategy: 'ab', abCase: 'swap', activeColor: 'a', via: 'ab', instanceCount: 3, instanceCountStep: undefined, envGroupCollision: false, targetGroups: { type: 'application', rule: false } });
}

/** Shifts all the weight of the chaos environment's forward to `to`'s target group. */
async function shiftAll(i: ToolInvocation, to: string, from: string): Promise<void> {
  const port = createAwsPort(i.clients, i.sandbox.clock);
  const [tgTo, tgFrom] = [(await port.observeGroup(to)).targetGroupARNs[0], (await port.observeGroup(from)).targetGroupARNs[0]];
  for (const f of await port.findForwards([tgTo, tgFrom])) await port.setForwardWeights(f, { [tgTo]: 100, [tgFrom]: 0 });
}

sabotage.push(
  {
    name: 'shifting the traffic to the new color before its targets are healthy (ALB)',
    scenario: cleanWeighted(),
    code: 'weight-to-unhealthy',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      await port.updateSizes(`${i.target}-b`, { max: 3, desired: 3 });
      await shiftAll(i, `${i.target}-b`, `${i.target}-a`);
      await i.sandbox.clock.sleep(600_000);
      await port.updateSizes(`${i.target}-a`, { desired: 0, min: 0 });
      await i.sandbox.clock.sleep(600_000);
      return { ...result(i.target), strategy: 'ab' };
    },
  },
  {
    name: 'draining the old color while it still carries all the weight (ALB)',
    scenario: cleanWeighted(),
    code: 'scaled-in-under-weight',
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      await port.updateSizes(`${i.target}-b`, { max: 3, desired: 3 });
      await i.sandbox.clock.sleep(600_000);
      await port.updateSizes(`${i.target}-a`, { desired: 0, min: 0 });
      await i.sandbox.clock.sleep(600_000);
      await shiftAll(i, `${i.target}-b`, `${i.target}-a`);
      return { ...result(i.target), strategy: 'ab' };
    },
  },
);

/** A fault-free rolling group on an NLB target group only (issue 14), each new target 2 minutes in registration (FAULT-14). */
function cleanOnTargetGroup(): Scenario {
  return clean(4, { rollingTargetGroup: { type: 'network', withElb: false, awsDefaults: false, deregistrationDelay: 30, registrationSeconds: { min: 120, max: 120 } } });
}

sabotage.push({
  // The defect issue 14 was filed for: a tool that takes the ASG's InService for serving. The
  // checker judges serving by target health (the safety monitor: `healthy` in every attached
  // target group), so its terminations are below the floor while the new targets still register.
  name: 'replacing instances of a target-group-only group as soon as the new one is InService in the ASG (target still initial)',
  scenario: cleanOnTargetGroup(),
  code: 'min-healthy',
  tool: async (i) => {
    const port = createAwsPort(i.clients, i.sandbox.clock);
    const start = await port.observeGroup(i.target);
    for (const old of start.instances) {
      await port.updateSizes(i.target, { max: start.desired + 1, desired: start.desired + 1 });
      for (;;) {
        await i.sandbox.clock.sleep(5000);
        const g = await port.observeGroup(i.target, { targetHealth: false });
        if (g.instances.filter((x) => x.lifecycleState === 'InService').length > start.desired) break;
      }
      await port.terminateInstance(old.instanceId, true);
    }
    await port.updateSizes(i.target, { max: start.max });
    await i.sandbox.clock.sleep(600_000);
    return result(i.target);
  },
});

test.serial('chaos control: our rolling engine on an NLB target group with slow registration keeps every target-health invariant (issue 14)', async (t) => {
  const r = await runScenario(cleanOnTargetGroup());
  t.deepEqual(r.violations, []);
  t.is(r.exit, 0);
});

test.serial('chaos control: our A/B engine on ALB target groups with steps passes the traffic invariants', async (t) => {
  const s = cleanWeighted();
  s.targetGroups = { type: 'application', rule: true, steps: [20, 60, 100], stepWaitSeconds: 60 };
  s.expect = expectationOf(s);
  const r = await runScenario(s);
  t.deepEqual(r.violations, []);
  t.is(r.exit, 0);
});

/** Seed 1113573521 of session 2027: rolling, 17, surge 0, an alarm trip, --rollback; the rollback reads the alarm in ALARM. */
const alarmedRollback = () => generateScenario(1113573521, 'rolling');
const rollWithRollback = (i: ToolInvocation) =>
  rollGroup({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, asg: i.target, surge: i.scenario.surge, batchSize: i.scenario.batchSize, minHealthy: i.scenario.minHealthy, alarms: ['chaos-5xx'], rollback: true });

test.serial('issue 16: a rolling rollback watches the alarms without halting and names one it saw in ALARM (seed 1113573521 of 2027)', async (t) => {
  const r = await runScenario(alarmedRollback());
  t.deepEqual(r.violations, []);
  const last = r.attempts[r.attempts.length - 1];
  t.is(last.rollback, 'done');
  t.deepEqual(last.rollbackAlarms, ['chaos-5xx']);
});

test.serial('checker: the halting read and the rollback\'s set-back at the same simulated millisecond — the read is the forward run\'s, not the rollback\'s (seed 2868312849 of 2027)', async (t) => {
  // Launch configuration, never-healthy boot, alarm trip: the rollout halts at its read, the set-back
  // follows at the same millisecond, and the rollback has nothing to replace (reads no alarm).
  const r = await runScenario(generateScenario(2868312849, 'rolling'));
  t.deepEqual(r.violations, []);
  const last = r.attempts[r.attempts.length - 1];
  t.is(last.code, 'alarm');
  t.is(last.rollback, 'done');
});

sabotage.push({
  name: 'rolling back after an alarm without naming the alarm it read in ALARM while rolling back',
  scenario: alarmedRollback(),
  code: 'alarm-not-reported',
  tool: async (i) => {
    try {
      return await rollWithRollback(i);
    } catch (err) {
      if (err instanceof DeployError && err.data.rollback) delete (err.data.rollback as { alarms?: string[] }).alarms;
      throw err;
    }
  },
});

/**
 * Seed 3564783887 of 4242 (a template version published mid-run, --protected ignore, someone's
 * Standby put back) without its SIGINT and its AZ rebalancing (AWS would replace the old instances
 * itself): the checker excuses the outdated instances the policy skipped and counts either version
 * as up to date — and still calls a done that left outdated instances no policy skipped a failure.
 */
test.serial('the checker catches a tool reporting done without replacing anything while the template changed mid-run and a policy skips protected instances', async (t) => {
  const base = generateScenario(3564783887, 'rolling');
  const s: Scenario = { ...base, interruption: { kind: 'none' }, faults: { ...base.faults, azRebalance: false } };
  s.expect = expectationOf(s);
  const r = await runScenario(s, {
    tool: async (i) => {
      await i.sandbox.clock.sleep(1_500_000); // past the template change
      return result(i.target);
    },
  });
  const stale = r.violations.find((v) => v.code === 'outcome' && /not every instance is up to date/.test(v.message));
  t.truthy(stale, r.violations.map((v) => `${v.code}: ${v.message}`).join('\n'));
  t.regex(stale!.message, /launch template changed .*either version counts.*skipped 1/, 'the protected one skipped, the others caught');
});

for (const s of sabotage) {
  test.serial(`the checker catches a tool ${s.name}`, async (t) => {
    s.scenario.expect = expectationOf(s.scenario);
    const r = await runScenario(s.scenario, { tool: s.tool });
    t.log(r.violations.map((v) => `${v.code}: ${v.message}`).join('\n'));
    const codes = r.violations.map((v) => v.code);
    t.true(codes.includes(s.code as never), `expected ${s.code}, got [${codes.join(', ')}]`);
  });
}

test.serial('the checker calls a run with no progress for 2× the step timeout hung — a failure of the tool, judged long before the harness\'s 24-hour cap (issue 10)', async (t) => {
  const s = clean(3);
  s.expect = expectationOf(s);
  const started: number[] = [];
  const r = await runScenario(s, {
    tool: async (i) => {
      // Raises desired once, then keeps looking at the group every 30 s and never acts again
      // (until the watchdog aborts it): busy, but no progress.
      started.push(i.sandbox.clock.now());
      const port = createAwsPort(i.clients, i.sandbox.clock);
      await port.updateSizes(i.target, { max: 4, desired: 4 });
      for (;;) {
        await i.sandbox.clock.sleep(30_000, i.signal);
        await port.observeGroup(i.target);
      }
    },
  });
  const hung = r.violations.find((v) => v.code === 'hung');
  t.truthy(hung, JSON.stringify(r.violations));
  t.regex(hung?.message ?? '', /no progress for \d+ s \(more than 2× the step timeout\): hung/);
  t.true(r.simulatedSeconds < 3 * 3600, `judged after ${r.simulatedSeconds} simulated s, not at the 24-hour cap`);
});

test.serial('the checker catches a tool that exits 130 on SIGINT without restoring, even when the re-run cleans up', async (t) => {
  const tool = async (i: ToolInvocation): Promise<RolloutResult> => {
    const port = createAwsPort(i.clients, i.sandbox.clock);
    await port.suspendProcesses(i.target, ['AZRebalance']);
    try {
      await i.sandbox.clock.sleep(600_000, i.signal);
    } catch {
      throw interruptedError(); // claims "restored", restores nothing
    }
    await port.resumeProcesses(i.target, ['AZRebalance']);
    return engine(i);
  };
  const r = await runScenario(clean(3, { interruption: { kind: 'sigint', afterSeconds: 60 } }), { tool });
  const after = r.violations.filter((v) => v.code === 'leftover' && v.message.includes('after SIGINT'));
  t.true(after.length > 0, JSON.stringify(r.violations));
  t.is(r.exit, 0, 'the re-run finished the job');
  t.false(r.violations.some((v) => v.code === 'leftover' && !v.message.includes('after SIGINT')), 'nothing left at the end');
});

test.serial('chaos drives deploy’s A/B hook: a kill -9 mid-swap, unlock --force, a re-run of the hook finishes the recorded swap', async (t) => {
  const s = generateScenario(930726123, 'ab');
  t.is(s.via, 'deploy');
  t.is(s.interruption.kind, 'crash');
  const r = await runScenario(s);
  t.deepEqual(r.attempts.map((a) => a.kind), ['crash', 'rerun']);
  t.is(r.exit, 0);
  t.deepEqual(r.violations, []);
});

/** A clean A/B swap (classic ELBs, 3 → 3) whose new image never gets healthy: it halts at the health-check timeout. */
function haltingSwap(sigintAfterSeconds: number): Scenario {
  const base = clean(3);
  const s: Scenario = {
    ...base,
    strategy: 'ab',
    abCase: 'swap',
    activeColor: 'a',
    via: 'ab',
    instanceCount: 3,
    instanceCountStep: undefined,
    envGroupCollision: false,
    targetGroups: undefined,
    faults: { ...base.faults, badImage: true },
    interruption: { kind: 'sigint', afterSeconds: sigintAfterSeconds },
  };
  s.expect = expectationOf(s);
  return s;
}

/**
 * Our engine (`ab`, left for inspection on failure, --health-check-timeout 300 s), its exit slowed
 * after a halt as a throttled lock release slows it (chaos seed 1907761789): the SIGINT can land
 * after the halt, in the run's last calls.
 */
const haltThenSlowExit = async (i: ToolInvocation): Promise<RolloutResult> => {
  try {
    return await abDeploy({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, environment: i.target, instanceCountMatch: true, healthCheckTimeout: 300 });
  } catch (err) {
    await i.sandbox.clock.sleep(600_000, i.signal).catch(() => undefined);
    throw err;
  }
};

test.serial('A/B SIGINT after the run had halted on its own (new color left for inspection): judged as that halt, not re-run into the documented "both populated" refusal; a SIGINT before the halt is still re-run', async (t) => {
  const late = haltingSwap(500);
  t.is(late.expect, 'halt');
  const r = await runScenario(late, { tool: haltThenSlowExit });
  t.deepEqual(r.attempts.map((a) => [a.kind, a.exit, a.code]), [['sigint', 1, 'ab.unhealthy']], 'one attempt: the halt the SIGINT came after');
  t.deepEqual(r.violations, []);
  t.is(r.exit, 1);

  // Control: the SIGINT cuts the swap short (during the growth): interrupted, restored, re-run.
  const early = await runScenario(haltingSwap(60), { tool: haltThenSlowExit });
  t.deepEqual(early.attempts.map((a) => [a.kind, a.exit]), [['sigint', 130], ['rerun', 1]]);
  t.deepEqual(early.violations, []);
});

test('scenarios: about a third of the A/B runs go through deploy’s hook; its dry runs only where the hook’s plan judges (no lock/both-populated refusals)', (t) => {
  let ab = 0;
  let viaDeploy = 0;
  for (let i = 0; i < 600; i++) {
    const s = generateScenario(i, 'ab');
    ab++;
    if (s.via === 'deploy') {
      viaDeploy++;
      t.false(s.dryRun && (s.abCase === 'locked' || s.abCase === 'both-populated'), `seed ${i}`);
      t.true(s.tags.includes('via:deploy'));
    }
    t.is(generateScenario(i, 'rolling').via, 'ab', 'rolling runs are not A/B');
  }
  t.true(viaDeploy / ab > 0.25 && viaDeploy / ab < 0.45, `${viaDeploy}/${ab}`);
});

test.serial('the checker judges A/B sizes in full: a swap that finishes but leaves the new color’s max raised is caught', async (t) => {
  const base = clean(4);
  const s: Scenario = { ...generateScenario(99, 'ab'), faults: base.faults, healthCheck: base.healthCheck, drainingTimeout: 0, dryRun: false, interruption: { kind: 'none' }, abCase: 'swap', size: 4, instanceCount: undefined, instanceCountStep: undefined, via: 'ab' };
  s.expect = expectationOf(s);
  const swap = (i: ToolInvocation) => abDeploy({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, environment: i.target, instanceCountMatch: true });
  const control = await runScenario(s, { tool: swap });
  t.deepEqual(control.violations, [], 'control: our engine');
  const r = await runScenario(s, {
    tool: async (i) => {
      const out = await swap(i);
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const serving = [`${i.target}-a`, `${i.target}-b`].find((g) => i.sandbox.world.state.groups[g].desired > 0)!;
      await port.updateSizes(serving, { max: 9 });
      return out;
    },
  });
  t.true(r.violations.some((v) => v.code === 'leftover' && /max 4 -> 9|max \d+ -> 9/.test(v.message)), JSON.stringify(r.violations));
});

test.serial('class standby-in-color (issue 10 item 9): someone moves an instance of a color to Standby and back mid-swap; our engine passes, a tool that terminates the one in Standby is caught', async (t) => {
  const base = clean(4);
  const s: Scenario = {
    ...generateScenario(99, 'ab'),
    faults: base.faults,
    healthCheck: base.healthCheck,
    drainingTimeout: 0,
    dryRun: false,
    interruption: { kind: 'none' },
    abCase: 'swap',
    size: 4,
    instanceCount: undefined,
    instanceCountStep: undefined,
    via: 'ab',
    envGroupCollision: false,
    targetGroups: undefined,
    abStandby: { color: 'active', afterSeconds: 10, exitAfterSeconds: 60 },
  };
  s.expect = expectationOf(s);
  const swap = (i: ToolInvocation) => abDeploy({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, environment: i.target, instanceCountMatch: true });
  const control = await runScenario(s, { tool: swap });
  t.deepEqual(control.violations, [], 'control: our engine');
  const r = await runScenario(s, {
    tool: async (i) => {
      // Wait for someone's Standby in the active color, then terminate that instance.
      await i.sandbox.clock.sleep(40_000);
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const active = [`${i.target}-a`, `${i.target}-b`].find((g) => i.sandbox.world.state.groups[g].desired > 0)!;
      const inStandby = (await port.observeGroup(active)).instances.find((x) => x.lifecycleState === 'Standby')!;
      await port.terminateInstance(inStandby.instanceId, false);
      return swap(i);
    },
  });
  t.true(r.violations.some((v) => v.code === 'policy' && /terminated in Standby/.test(v.message)), JSON.stringify(r.violations));
});

test.serial('class env-named-group: a freeze by `lock --environment` beside a group named like the environment still refuses the swap; a tool touching that group is caught', async (t) => {
  const base = clean(3);
  const s: Scenario = { ...generateScenario(99, 'ab'), faults: base.faults, healthCheck: base.healthCheck, drainingTimeout: 0, dryRun: false, interruption: { kind: 'none' }, abCase: 'locked', size: 3, instanceCount: undefined, instanceCountStep: undefined, via: 'ab', envGroupCollision: true };
  s.expect = expectationOf(s);
  t.is(s.expect, 'refused');
  const r = await runScenario(s);
  t.is(r.exit, 3);
  t.deepEqual(r.violations, []);

  const swap: Scenario = { ...s, abCase: 'swap' };
  swap.expect = expectationOf(swap);
  const sabotage = await runScenario(swap, {
    tool: async (i) => {
      const out = await abDeploy({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, environment: i.target, instanceCountMatch: true });
      await createAwsPort(i.clients, i.sandbox.clock).suspendProcesses(i.target, ['AZRebalance']); // the group named like the environment
      return out;
    },
  });
  t.true(sabotage.violations.some((v) => v.code === 'leftover' && v.message.includes('named like the environment')), JSON.stringify(sabotage.violations));
});

/** The first scenario of master seed 2027 drawing the clean-up-confirm class (issue 10 defect 4). */
function cleanUpConfirmScenario(): Scenario {
  for (let i = 0; ; i++) {
    const s = generateScenario(seedOf(2027, i));
    if (s.cleanUpConfirm) return s;
  }
}

test.serial('chaos draws ab --clean-up with the kept color stopping to serve during its confirmation: the tool looks again and refuses (exit 3, premise-changed), nothing drained', async (t) => {
  const s = cleanUpConfirmScenario();
  t.true(s.tags.includes('clean-up-confirm'));
  t.is(s.strategy, 'ab');
  t.is(s.abCase, 'both-populated');
  t.is(s.expect, 'refused');
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], describeScenario(s));
  const last = r.attempts[r.attempts.length - 1];
  t.is(last.exit, 3);
  t.is(last.code, 'premise-changed');
});

test.serial('the checker catches a tool that drains on the look taken before the --clean-up confirmation (issue 10 defect 4)', async (t) => {
  const s = cleanUpConfirmScenario();
  const r = await runScenario(s, {
    tool: async (i) => {
      // The defect: plan, ask, then drain the color the old look said to drain.
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const a = await port.observeGroup(`${i.target}-a`);
      const b = await port.observeGroup(`${i.target}-b`);
      const { keep, drain } = chooseKeep(a, b);
      t.true(await i.confirm!(`Both colors have instances. Keep ${keep.name} and DRAIN ${drain.name} (sabotage)?`));
      await port.updateSizes(drain.name, { min: 0, desired: 0 });
      await i.sandbox.clock.sleep(600_000);
      return { ...result(i.target), strategy: 'ab' };
    },
  });
  const codes = r.violations.map((v) => v.code);
  t.log(r.violations.map((v) => `${v.code}: ${v.message}`).join('\n'));
  t.true(codes.includes('outcome'), `expected outcome, got [${codes.join(', ')}]`);
  t.true(codes.includes('leftover'), `the drained color is judged too: [${codes.join(', ')}]`);
});

/** Seed 4104625807 (of 140432538): clean-up-confirm on target groups, the color --clean-up would drain holding weight 100. */
const WEIGHTED_CLEAN_UP = 4104625807;

test.serial('clean-up-confirm where the color to drain still carries weight: the refusal before the prompt (exit 3, drain-carries-weight) passes; a tool that drains without asking, or refuses naming a color without weight, is caught', async (t) => {
  const s = generateScenario(WEIGHTED_CLEAN_UP, 'ab');
  t.true(s.cleanUpConfirm === true && s.targetGroups !== undefined, describeScenario(s));
  const ours = await runScenario(s);
  t.deepEqual(ours.violations, [], describeScenario(s));
  t.is(ours.attempts[ours.attempts.length - 1].code, 'drain-carries-weight');
  // The defect the prompt guards against: draining without asking.
  const skips = await runScenario(s, {
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const { drain } = chooseKeep(await port.observeGroup(`${i.target}-a`), await port.observeGroup(`${i.target}-b`));
      await port.updateSizes(drain.name, { min: 0, desired: 0 });
      await i.sandbox.clock.sleep(600_000);
      return { ...result(i.target), strategy: 'ab' };
    },
  });
  t.true(skips.violations.some((v) => v.code === 'outcome' && v.message.includes('never asked')), JSON.stringify(skips.violations));
  // A refusal naming a color whose target group carries no weight is no excuse for not asking.
  const wrong = await runScenario(s, {
    tool: async (i) => {
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const { keep } = chooseKeep(await port.observeGroup(`${i.target}-a`), await port.observeGroup(`${i.target}-b`));
      throw refusedError('drain-carries-weight', `sabotage: ${keep.name} carries weight`, { keep: keep.name, drain: keep.name, weight: 100 });
    },
  });
  t.true(wrong.violations.some((v) => v.code === 'outcome' && v.message.includes('never asked')), JSON.stringify(wrong.violations));
});
