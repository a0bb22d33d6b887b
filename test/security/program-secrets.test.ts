/**
 * Pulumi secrets inside `asg-deploy:services`, under `pulumi.runtime.setMocks`: the program
 * (infra/index.ts) is given the config as Pulumi's language host gives it — the decrypted JSON,
 * with the key listed among the secret keys (`setAllConfig(config, secretKeys)`, i.e.
 * PULUMI_CONFIG_SECRET_KEYS) — and must pass user data and tag values to the resources as secret
 * Outputs, keep them out of the `services` manifest, and never echo them in validation errors.
 * Pulumi's runtime state is global, so these tests run serially.
 */
import test from 'ava';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { DeployError } from '../../orchestrator/errors';

const INDEX = path.resolve(__dirname, '..', '..', 'infra', 'index.ts');
const LT = 'aws:ec2/launchTemplate:LaunchTemplate';
const ASG = 'aws:autoscaling/group:Group';
const ELB = 'aws:elb/loadBalancer:LoadBalancer';
const CANARY = 'CANARY-userdata-7f3a9c';
const TAG_CANARY = 'CANARY-tag-51be02';
const KEY = 'asg-deploy:services';

const RABBIT = {
  strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', capacity: 3, minHealthy: 2, surge: 1,
  userData: `#!/bin/bash\nexport BOOTSTRAP_TOKEN=${CANARY}\n`,
  tags: { team: 'messaging', vaultToken: TAG_CANARY },
};
const WEB = {
  strategy: 'ab', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 2,
  userData: `#!/bin/bash\necho ${CANARY}\n`, tags: { vaultToken: TAG_CANARY },
};

interface Registered {
  type: string;
  name: string;
  /** The program's own inputs (Outputs kept), as a stack transformation sees them. */
  props: Record<string, any>;
  /** What the mock provider received (secrets unwrapped, as a provider gets them). */
  inputs: Record<string, any>;
}

async function runIndex(services: unknown, secretKeys: string[], expectError = false): Promise<{ registered: Registered[]; outputs: Record<string, unknown>; error?: Error }> {
  delete require.cache[require.resolve(INDEX)];
  const registered: Registered[] = [];
  const inputs = new Map<string, Record<string, any>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(`${args.type}::${args.name}`, args.inputs);
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === LT) Object.assign(state, { latestVersion: 1, defaultVersion: 1 });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => (args.token.includes('getAvailabilityZones') ? { names: ['us-east-1a', 'us-east-1b'] } : {}),
    },
    'asg-deploy',
    'qa',
    false,
  );
  pulumi.runtime.setAllConfig({ [KEY]: JSON.stringify(services), 'aws:region': 'us-east-1' }, secretKeys);
  let outputs: Record<string, unknown> = {};
  let error: Error | undefined;
  try {
    // A config error throws while the module loads, as it would in the language host.
    if (expectError) require(INDEX);
    else {
      outputs =
        (await pulumi.runtime.runInPulumiStack(async () => {
          pulumi.runtime.registerStackTransformation((a) => {
            registered.push({ type: a.type, name: a.name, props: a.props as Record<string, any>, inputs: {} });
            return undefined;
          });
          return require(INDEX);
        })) ?? {};
    }
  } catch (e) {
    error = e as Error;
  } finally {
    await pulumi.runtime.disconnect();
  }
  for (const r of registered) r.inputs = inputs.get(`${r.type}::${r.name}`) ?? {};
  return { registered, outputs, error };
}

const find = (rs: Registered[], type: string, name: string) => {
  const r = rs.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}: ${rs.map((x) => `${x.type}/${x.name}`).join(', ')}`);
  return r;
};

async function secrecy(value: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(value) ? await pulumi.isSecret(value as pulumi.Output<unknown>) : false;
}

test.serial('a secret services config: user data and tag values reach the resources as secret Outputs; the rest stays plain', async (t) => {
  const { registered, outputs, error } = await runIndex({ rabbit: RABBIT, web: WEB }, [KEY]);
  t.is(error, undefined);
  const lt = find(registered, LT, 'qa-rabbit');
  t.true(await secrecy(lt.props.userData), 'launch template user data is a secret Output');
  t.true(pulumi.runtime.isRpcSecret(lt.inputs.userData), 'the engine receives it marked secret');
  t.is(Buffer.from(pulumi.runtime.unwrapRpcSecret(lt.inputs.userData), 'base64').toString('utf8'), RABBIT.userData, 'the provider still gets the real (base64) user data');
  t.true(await secrecy(lt.props.tags.vaultToken), 'a tag value is a secret Output');
  t.true(await secrecy(lt.props.tagSpecifications[0].tags.vaultToken), 'and so in the tag specifications');
  t.false(await secrecy(lt.props.imageId), 'structural fields stay plain');
  t.is(lt.props.name, 'qa-rabbit');

  const asg = find(registered, ASG, 'qa-rabbit');
  const vault = (asg.props.tags as Array<{ key: string; value: unknown }>).find((x) => x.key === 'vaultToken')!;
  t.true(await secrecy(vault.value), 'ASG tag value is a secret Output');
  t.true(pulumi.runtime.isRpcSecret(asg.inputs.tags), 'the engine receives the tag list marked secret');
  t.is(pulumi.runtime.unwrapRpcSecret(asg.inputs.tags).find((x: { key: string }) => x.key === 'vaultToken').value, TAG_CANARY);
  const elb = find(registered, ELB, 'qa-web-a');
  t.true(await secrecy(elb.props.tags.vaultToken), 'ELB tag value is a secret Output');
  t.true(await secrecy(find(registered, LT, 'qa-web').props.userData));

  const manifest = JSON.stringify(outputs.services);
  t.true(manifest.includes('qa-rabbit'), 'the manifest resolved');
  t.false(manifest.includes(CANARY), 'no user data in the services manifest');
  t.false(manifest.includes(TAG_CANARY), 'no tag value in the services manifest');
  t.false(await secrecy((await import(INDEX)).services), 'the manifest itself holds no secret, so it is not one');
});

test.serial('the same config without secret keys is plain (the secrecy above comes from Pulumi marking the key)', async (t) => {
  const { registered, error } = await runIndex({ rabbit: RABBIT }, []);
  t.is(error, undefined);
  const lt = find(registered, LT, 'qa-rabbit');
  t.false(await secrecy(lt.props.userData));
  t.is(Buffer.from(lt.props.userData, 'base64').toString('utf8'), RABBIT.userData);
});

test.serial('validation errors of a secret services config name service and key, never a value', async (t) => {
  const bad = { rabbit: { ...RABBIT, userData: { nested: CANARY }, tags: { vaultToken: { deep: TAG_CANARY } }, capacity: `x${CANARY}` } };
  const { error, registered } = await runIndex(bad, [KEY], true);
  t.true(error instanceof pulumi.RunError);
  t.regex(error!.message, /service "rabbit": userData is not allowed/);
  t.regex(error!.message, /service "rabbit": tags\.vaultToken is not allowed/);
  t.regex(error!.message, /service "rabbit": capacity is not allowed/);
  t.false(error!.message.includes(CANARY), error!.message);
  t.false(error!.message.includes(TAG_CANARY));
  const cause = (error as { cause?: unknown }).cause as DeployError;
  t.is(cause.code, 'config.invalid');
  t.false(JSON.stringify(cause.data).includes(CANARY), 'the error data (JSON events) carry no value either');
  t.deepEqual(registered, [], 'nothing declared');
});

test.serial('user data over 16 KB is refused with its size, never an excerpt (secret or not)', async (t) => {
  const big = { rabbit: { ...RABBIT, userData: `${CANARY}\n${'x'.repeat(17 * 1024)}` } };
  const { error } = await runIndex(big, [], true);
  t.regex(error!.message, /service "rabbit": userData = "\d+ bytes" is not allowed; user data is limited to 16 KB/);
  t.false(error!.message.includes(CANARY), error!.message);
});
