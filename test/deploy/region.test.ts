import test from 'ava';
import { chooseRegion, sdkChainRegion } from '../../orchestrator/stack/region';

test('the rollout talks to the region Pulumi deploys into (table)', (t) => {
  const rows: Array<[string, string | undefined, string | undefined, string | undefined, 'stack' | 'sdk' | 'none', boolean]> = [
    // name, SDK chain, aws:region, expected region, source, warns
    ['no AWS_REGION/profile: the stack\'s', undefined, 'us-east-1', 'us-east-1', 'stack', false],
    ['both agree', 'us-east-1', 'us-east-1', 'us-east-1', 'stack', false],
    ['they disagree: the stack\'s (Pulumi\'s provider config wins), with a warning', 'eu-west-1', 'us-east-1', 'us-east-1', 'stack', true],
    ['no aws:region: the SDK chain (Pulumi uses it too)', 'eu-west-1', undefined, 'eu-west-1', 'sdk', false],
    ['neither: left to the SDK', undefined, undefined, undefined, 'none', false],
  ];
  for (const [name, sdk, stack, region, source, warns] of rows) {
    const c = chooseRegion(sdk, stack, 'qa');
    t.is(c.region, region, name);
    t.is(c.source, source, name);
    t.is(Boolean(c.warning), warns, name);
  }
  t.regex(chooseRegion('eu-west-1', 'us-east-1', 'qa').warning!, /AWS_REGION\/your profile say eu-west-1 but stack qa sets aws:region us-east-1.*talks to us-east-1/);
});

test.serial('the SDK chain region: AWS_REGION when set', async (t) => {
  const saved = process.env.AWS_REGION;
  process.env.AWS_REGION = 'ap-southeast-2';
  try {
    t.is(await sdkChainRegion(), 'ap-southeast-2');
  } finally {
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
  }
});
