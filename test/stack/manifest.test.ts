import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeployError } from '../../orchestrator/errors';
import { readManifest } from '../../orchestrator/stack/manifest';
import { readStackConfig } from '../../orchestrator/stack/sandbox-stack';
import { describeChangeSummary } from '../../orchestrator/stack/port';

const rolling = { service: 'rabbit', strategy: 'rolling', asgName: 'qa-rabbit' };
const ab = { service: 'web', strategy: 'ab', environment: 'qa-web', asgNames: { a: 'qa-web-a', b: 'qa-web-b' } };

const invalid: Array<[string, unknown, RegExp]> = [
  ['not an object', 'x', /is not an object/],
  ['another version', { version: 2, services: [] }, /version 2, this asg-deploy reads version 1/],
  ['no services list', { version: 1 }, /has no services list/],
  ['rolling without asgName', { version: 1, services: [{ service: 'r', strategy: 'rolling' }] }, /service r: missing asgName/],
  ['ab without both colors', { version: 1, services: [{ service: 'w', strategy: 'ab', asgNames: { a: 'x' } }] }, /service w: missing asgNames \{a, b\}/],
  ['unknown strategy', { version: 1, services: [{ service: 'x', strategy: 'canary' }] }, /unknown strategy "canary"/],
];
for (const [title, services, message] of invalid) {
  test(`the services output is rejected (exit 1) when ${title}`, (t) => {
    const err = t.throws(() => readManifest({ services }, 'qa'), { instanceOf: DeployError });
    t.is(err!.exit, 1);
    t.regex(err!.message, message);
  });
}

test('a valid manifest is read; no output at all is undefined (never deployed)', (t) => {
  t.deepEqual(readManifest({ services: { version: 1, stack: 'qa', services: [rolling, ab] } }, 'qa')?.services.map((s) => s.service), ['rabbit', 'web']);
  t.is(readManifest({}, 'qa'), undefined);
});

test('stack config: project keys get the project namespace, provider keys keep theirs', (t) => {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'Pulumi.qa.yaml');
  fs.writeFileSync(f, 'config:\n  aws:region: eu-west-1\n  services:\n    web: {strategy: ab}\n');
  t.deepEqual(readStackConfig(f, 'qa'), { 'aws:region': 'eu-west-1', 'asg-deploy:services': { web: { strategy: 'ab' } } });
  fs.writeFileSync(f, 'config: [1]\n');
  t.is(t.throws(() => readStackConfig(f, 'qa'), { instanceOf: DeployError })!.exit, 2);
  t.deepEqual(readStackConfig(path.join(path.dirname(f), 'absent.yaml'), 'qa'), {});
});

test('change summaries read as a phrase', (t) => {
  t.is(describeChangeSummary({ update: 2, same: 6 }), '2 to update, 6 unchanged');
  t.is(describeChangeSummary({ create: 8 }, 'done'), '8 created');
  t.is(describeChangeSummary({}), 'no changes');
});

test('the stack config file and default names use the short stack name of org/project/stack', async (t) => {
  const { stackConfigPath, validateStackConfig } = await import('../../orchestrator/stack/config-file');
  t.is(stackConfigPath('/p', 'acme/asg-deploy/qa'), path.join('/p', 'Pulumi.qa.yaml'));
  t.is(stackConfigPath('/p', 'qa', 'other.yaml'), path.resolve('other.yaml'));
  const values = readStackConfig(path.resolve(__dirname, '../../Pulumi.qa.yaml'), 'qa');
  const v = validateStackConfig({ file: '/p/Pulumi.qa.yaml', exists: true, values }, 'acme/asg-deploy/qa');
  t.deepEqual(v.services!.map((s) => s.name), ['qa-web', 'qa-rabbit']);
  t.is(v.region, 'us-east-1');
});
