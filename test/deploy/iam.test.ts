/**
 * README "IAM permissions" (b) is derived from the code: every AWS SDK command the orchestrator
 * sends must be allowed by the policy printed there, and the policy grants nothing it never calls.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const PREFIX: Record<string, string> = {
  'client-auto-scaling': 'autoscaling',
  'client-cloudwatch': 'cloudwatch',
  'client-ec2': 'ec2',
  'client-elastic-load-balancing': 'elasticloadbalancing',
  // ELBv2 (ALB/NLB target groups) shares the `elasticloadbalancing` action prefix.
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-s3': 's3',
};

/** `service:Action` for every `new XCommand(` / `paginateX(` in the orchestrator's AWS-calling code. */
function actionsCalled(): Set<string> {
  const files = ['orchestrator/aws', 'orchestrator/lock'].flatMap((d) =>
    fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => path.join(ROOT, d, f)),
  );
  const found = new Set<string>();
  for (const file of files) {
    const src = fs.readFileSync(file, 'utf8');
    // Static imports, and the lazy `const { XCommand } = await import(<an @aws-sdk client package>)`.
    for (const m of src.matchAll(/(?:import|const)\s*\{([^}]*)\}\s*(?:from|=\s*await\s+import\()\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
      const service = PREFIX[m[2]];
      if (!service) throw new Error(`${file}: unknown AWS client ${m[2]}`);
      for (const raw of m[1].split(',')) {
        const name = raw.trim().replace(/^type\s+/, '');
        const command = /^([A-Z]\w+)Command$/.exec(name)?.[1];
        const paginated = /^paginate([A-Z]\w+)$/.exec(name)?.[1];
        if (command && new RegExp(`new ${name}\\(`).test(src)) found.add(`${service}:${command}`);
        if (paginated && new RegExp(`${name}\\(`).test(src)) found.add(`${service}:${paginated}`);
      }
    }
  }
  return found;
}

/** The actions of the second JSON policy in the docs/iam.md: (b), the orchestrator's. */
function orchestratorPolicy(): Set<string> {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'iam.md'), 'utf8');
  const section = /<!-- section:iam -->([\s\S]*?)<!-- \/section:iam -->/.exec(readme)?.[1] ?? '';
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as { Statement: Array<{ Action: string | string[] }> });
  if (blocks.length !== 2) throw new Error(`expected 2 JSON policies in the iam section, found ${blocks.length}`);
  return new Set(blocks[1].Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

test('docs/iam.md IAM (b) allows every AWS action the orchestrator calls, and only those (plus s3:ListBucket)', (t) => {
  const called = actionsCalled();
  const allowed = orchestratorPolicy();
  t.true(called.size >= 15, `found ${called.size} actions: ${[...called].join(', ')}`);
  t.deepEqual([...called].filter((a) => !allowed.has(a)).sort(), [], 'called but not in the policy');
  const extra = [...allowed].filter((a) => !called.has(a)).sort();
  t.deepEqual(extra, ['s3:ListBucket'], 'in the policy but never called (ListBucket: a missing lock reads as 404, not 403)');
});

test('docs/iam.md IAM (a) and (b) are valid policy JSON', (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'iam.md'), 'utf8');
  const section = /<!-- section:iam -->([\s\S]*?)<!-- \/section:iam -->/.exec(readme)![1];
  const [a] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as { Version: string; Statement: Array<{ Action: string | string[] }> });
  t.is(a.Version, '2012-10-17');
  const actions = a.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  for (const needed of ['ec2:CreateLaunchTemplateVersion', 'autoscaling:CreateAutoScalingGroup', 'elasticloadbalancing:CreateLoadBalancer', 'iam:PassRole', 'ec2:RunInstances', 'autoscaling:CreateLaunchConfiguration', 'ec2:Describe*']) {
    t.true(actions.includes(needed), needed);
  }
});
