import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { noNotifier } from '../../orchestrator/notify/webhook';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import { engineHooks } from '../../orchestrator/stack/hooks';
import { awsRecordReader } from '../../orchestrator/stack/records';
import { awsLockReader } from '../../orchestrator/stack/locks';
import { SandboxStacks, type SandboxStacksState } from '../../orchestrator/stack/sandbox-stack';

const DEMO = fs.readFileSync(path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml'), 'utf8');

/**
 * The deploy flow's dependencies on a fresh sandbox (seed 11), with the demo stack config:
 * `config(image)` writes a copy whose services run `image` and returns its path.
 * `bucket` puts the locks in S3 (else the lock tag).
 */
export function sandboxDeployWorld(options: { bucket?: string; tmpPrefix?: string } = {}) {
  const { bucket } = options;
  const sandbox = Sandbox.create({ seed: 11 });
  const stacks: SandboxStacksState = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix ?? 'sbx-deploy-'));
  const config = (image: string) => {
    const f = path.join(dir, `${image}.yaml`);
    fs.writeFileSync(f, DEMO.replace(/ami-0demo1/g, image));
    return f;
  };
  const reporter = new RecordingReporter(sandbox.clock);
  const port = createAwsPort(sandbox.clients, sandbox.clock);
  const deps = (signal = new AbortController().signal) => ({
    backend: new SandboxStacks({ clients: sandbox.clients, clock: sandbox.clock, stacks, projectRoot: dir }),
    hooks: engineHooks({ port, clock: sandbox.clock, reporter, lockBucket: bucket }),
    locks: awsLockReader({ port, clock: sandbox.clock, reporter, bucket }),
    records: awsRecordReader(port),
    reporter,
    clock: sandbox.clock,
    signal,
    notifier: noNotifier,
    print: () => {},
  });
  return { sandbox, stacks, config, reporter, deps, port, dir };
}
