/** Drives the stand-in pulumi (test/stack/fake-pulumi/pulumi) from the tests: its environment and its log. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FAKE_DIR = __dirname;

export interface FakeCall {
  pid: number;
  argv?: string[];
  pgid?: number;
  signal?: string;
  command?: string;
  nth?: number;
  waiting?: boolean;
}

export interface FakePulumi {
  home: string;
  env: Record<string, string>;
  calls(): FakeCall[];
  /** The argument lists of every invocation, in order. */
  argvs(): string[][];
  /** Signals the stand-in received while running `command`. */
  signals(command?: string): FakeCall[];
}

export function fakePulumi(options: { scenario?: string; stacks?: string[]; version?: string; outputs?: unknown; changes?: unknown[]; secrets?: string[] } = {}): FakePulumi {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-pulumi-'));
  const env: Record<string, string> = {
    PATH: `${FAKE_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    FAKE_PULUMI_HOME: home,
    FAKE_PULUMI_SCENARIO: options.scenario ?? 'ok',
    FAKE_PULUMI_STACKS: (options.stacks ?? ['qa']).join(','),
    FAKE_PULUMI_VERSION: options.version ?? 'v3.248.0',
    FAKE_PULUMI_OUTPUTS: JSON.stringify(options.outputs ?? {}),
    FAKE_PULUMI_CHANGES: JSON.stringify(options.changes ?? []),
    FAKE_PULUMI_SECRETS: (options.secrets ?? []).join(','),
    FAKE_SANDBOX_STATE: path.join(home, 'sandbox.json'),
  };
  const calls = (): FakeCall[] => {
    const file = path.join(home, 'calls.jsonl');
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall);
  };
  return {
    home,
    env,
    calls,
    argvs: () => calls().filter((c) => c.argv).map((c) => c.argv!),
    signals: (command) => calls().filter((c) => c.signal && (!command || c.command === command)),
  };
}

/** Sets `env` on process.env for the duration of `fn` (serial tests only). */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
