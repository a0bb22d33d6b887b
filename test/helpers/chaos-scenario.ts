/**
 * The chaos class tests' common scenario: seed 99's rolling fleet made fault-free — 4 instances,
 * surge 1, boots of 30–60 s, no interruption — with the class's `faults` on top, and `extra`
 * scenario fields (e.g. `rollback`, `holds`, `tags`) after that. The expectation is derived.
 */
import { expectationOf, generateScenario, type Scenario } from '../../orchestrator/proof/scenario';

/** No fault at all: boots of 30–60 s, nothing failing, throttled or late (the chaos tests' calm base). */
export const CALM_FAULTS: Pick<
  Scenario['faults'],
  'badImage' | 'bootSeconds' | 'bootFailureRate' | 'bootFailureMode' | 'launchFailureRate' | 'spontaneousTerminationsPerHour' | 'azRebalance' | 'throttleRate' | 'serverErrorRate' | 'consistencyDelaySeconds'
> = {
  badImage: false,
  bootSeconds: { min: 30, max: 60 },
  bootFailureRate: 0,
  bootFailureMode: 'never-healthy',
  launchFailureRate: 0,
  spontaneousTerminationsPerHour: 0,
  azRebalance: false,
  throttleRate: 0,
  serverErrorRate: 0,
  consistencyDelaySeconds: 0,
};

export function rollingScenario(faults: Partial<Scenario['faults']>, extra: Partial<Scenario> = {}): Scenario {
  const base = generateScenario(99, 'rolling');
  const s: Scenario = {
    ...base,
    size: 4,
    surge: 1,
    batchSize: 1,
    minHealthy: undefined,
    dryRun: false,
    launchConfiguration: false,
    interruption: { kind: 'none' },
    faults: { ...CALM_FAULTS, clockSkewSeconds: 0, ...faults },
    healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 },
    drainingTimeout: 0,
    ...extra,
  };
  s.expect = expectationOf(s);
  return s;
}
