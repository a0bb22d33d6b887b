/**
 * The sandbox stack plays the pulumi CLI for a stack config holding `secure:` values: it decrypts
 * them with the passphrase (as `pulumi up` does), hands `asg-deploy:services` to the program as a
 * secret key, applies the real values to the simulated AWS, and keeps them out of its stack
 * record (the sandbox state file) and out of the changes it reports.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DeployError } from '../../orchestrator/errors';
import { Sandbox } from '../../orchestrator/sandbox';
import { loadStackConfig, validateStackConfig } from '../../orchestrator/stack/config-file';
import { SandboxStacks, type SandboxStacksState } from '../../orchestrator/stack/sandbox-stack';
import { CANARY, PASSPHRASE, leaks, userDataScript, writeSecretStackConfig } from './canary';

function world(env: NodeJS.ProcessEnv = { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE }) {
  const sandbox = Sandbox.create({ seed: 5 });
  const stacks: SandboxStacksState = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-secrets-'));
  const backend = new SandboxStacks({ clients: sandbox.clients, clock: sandbox.clock, stacks, projectRoot: dir, env });
  return { sandbox, stacks, dir, backend };
}

test.serial('secure userData and tag values are applied in plain to the simulated AWS, sealed in the stack record, absent from changes', async (t) => {
  const { sandbox, stacks, dir, backend } = world();
  writeSecretStackConfig(dir, 'sec');
  const stack = await backend.open('sec');
  const events: unknown[] = [];
  const up = await stack.up({ onEvent: (e) => events.push(e) });

  const lt = await sandbox.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'sec-rabbit', Versions: ['$Latest'] }));
  const data = lt.LaunchTemplateVersions![0].LaunchTemplateData!;
  t.is(Buffer.from(data.UserData!, 'base64').toString('utf8'), userDataScript(), 'the instance gets the real user data');
  t.truthy(data.TagSpecifications?.[0].Tags?.some((x) => x.Key === 'vaultToken' && x.Value === CANARY.tag), 'and the real tag (AWS has no secret tags)');

  const record = JSON.stringify(stacks);
  t.deepEqual(leaks(record, [CANARY.userData, CANARY.tag, userDataScript()]), [], 'the stack record holds no secret, in any form');
  t.regex(JSON.stringify(stacks.sec.resources['aws:ec2/launchTemplate:LaunchTemplate::sec-rabbit'].inputs.userData), /hmac-sha256:[0-9a-f]{64}/);
  t.deepEqual(leaks(JSON.stringify({ up, events }), [CANARY.userData, CANARY.tag]), []);

  // Re-encrypting the same values (new nonces) changes nothing; a new secret is an update naming only the key.
  writeSecretStackConfig(dir, 'sec');
  t.deepEqual((await stack.preview()).changes, []);
  writeSecretStackConfig(dir, 'sec', { userData: userDataScript('CANARY-ud-rotated') });
  const preview = await stack.preview();
  // (the group is re-pinned to the template's new version, as the up does: issue 11 bug 8)
  t.deepEqual(preview.changes, [
    { op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name: 'sec-rabbit', diffs: ['userData'] },
    { op: 'update', type: 'aws:autoscaling/group:Group', name: 'sec-rabbit', diffs: ['launchTemplate'] },
  ]);
  t.false(JSON.stringify(preview).includes('CANARY'));
});

test.serial('without the passphrase, or with a wrong one: exit 2 saying what to set, no value shown, nothing applied', async (t) => {
  for (const env of [{}, { PULUMI_CONFIG_PASSPHRASE: 'wrong' }]) {
    const { stacks, dir, backend } = world(env);
    writeSecretStackConfig(dir, 'sec');
    const err = await t.throwsAsync((await backend.open('sec')).up(), { instanceOf: DeployError });
    t.is(err!.code, 'stack.secrets');
    t.is(err!.exit, 2);
    t.regex(err!.message, env.PULUMI_CONFIG_PASSPHRASE ? /incorrect passphrase/ : /PULUMI_CONFIG_PASSPHRASE/);
    t.deepEqual(stacks, {});
  }
});

test.serial('the orchestrator validates a config with secure leaves without decrypting it, and refuses a secret where it cannot stay secret', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-secrets-'));
  writeSecretStackConfig(dir, 'sec');
  const ok = validateStackConfig(loadStackConfig(dir, 'sec'), 'sec');
  const rabbit = ok.services!.find((s) => s.service === 'rabbit')!;
  t.is(rabbit.userData, '[secret]');
  t.is(rabbit.tags.vaultToken, '[secret]');

  writeSecretStackConfig(dir, 'bad', { imageSecret: true });
  const err = t.throws(() => validateStackConfig(loadStackConfig(dir, 'bad'), 'bad'), { instanceOf: DeployError })!;
  t.is(err.code, 'config.invalid');
  t.is(err.exit, 2);
  t.regex(err.message, /service "web": imageId is a secret \(secure:\); only userData and tags values may be secrets/);
  t.false(err.message.includes('v1:'), 'no ciphertext either');
});
