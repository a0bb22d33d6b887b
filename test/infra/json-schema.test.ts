import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import Ajv from 'ajv';
import { SCHEMA_FILE, stackConfigJsonSchema, stackConfigJsonSchemaText } from '../../schema/generate';
import { parseServices } from '../../infra/config';

const ROOT = path.resolve(__dirname, '..', '..');
const STACK_FILES = ['Pulumi.qa.yaml', 'examples/demo/Pulumi.demo.yaml', 'examples/hooks/Pulumi.hooks.yaml'];

let compiled: ReturnType<Ajv['compile']> | undefined;
const validator = () => (compiled ??= new Ajv({ allErrors: true, strict: false }).compile(stackConfigJsonSchema()));
const load = (file: string) => yaml.load(fs.readFileSync(path.join(ROOT, file), 'utf8')) as { config: Record<string, unknown> };

test('the committed JSON Schema is the one infra/schema.ts generates (run `npm run schema`)', (t) => {
  t.is(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8'), stackConfigJsonSchemaText());
});

test('every example stack file names the schema for yaml-language-server and validates against it', (t) => {
  const validate = validator();
  for (const file of STACK_FILES) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    t.truthy(m, `${file} has a yaml-language-server line`);
    t.is(path.resolve(ROOT, path.dirname(file), m![1]), path.join(ROOT, SCHEMA_FILE), `${file} points at ${SCHEMA_FILE}`);
    t.true(validate(load(file)), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

// The editor's schema and the tool agree on what they can both see.
const base = { strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 3 };
const doc = (service: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ config: { 'asg-deploy:services': { web: service }, ...extra } });

for (const c of [
  { title: 'a typo in a key', service: { ...base, minHealty: 2 } },
  { title: 'an ab key on a rolling service', service: { ...base, instanceCountStep: 2 } },
  { title: 'a rolling key on an ab service', service: { ...base, strategy: 'ab', surge: 1 } },
  { title: 'an unknown strategy', service: { ...base, strategy: 'blue-green' } },
  { title: 'a missing imageId', service: { ...base, imageId: undefined } },
  { title: 'a negative capacity', service: { ...base, capacity: -1 } },
  { title: 'a duration that is not one', service: { ...base, stepTimeout: 'soon' } },
  { title: 'a listener protocol', service: { ...base, loadBalancer: { listeners: [{ port: 80, instancePort: 80, protocol: 'udp' }] } } },
  { title: 'a typo inside the health check', service: { ...base, loadBalancer: { healthCheck: { intervall: 10 } } } },
  { title: 'a reserved tag key', service: { ...base, tags: { 'aws:owner': 'me' } } },
  { title: 'a bad subnet id', service: { ...base, subnets: ['net-1'] } },
  { title: 'a typo inside elbv2', service: { ...base, subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], elbv2: { type: 'application', targetGroups: {} } } },
  { title: 'an ELBv2 rule priority over 50000', service: { ...base, subnets: ['subnet-0aaa1111'], elbv2: { listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2', rule: { priority: 50001, pathPatterns: ['/api/*'] } } } },
]) {
  test(`schema and tool both refuse ${c.title}`, (t) => {
    const validate = validator();
    const service = JSON.parse(JSON.stringify(c.service)) as Record<string, unknown>;
    t.false(validate(doc(service)), 'the JSON Schema refuses it');
    t.throws(() => parseServices({ web: service }, 'qa'), undefined, 'the tool refuses it');
  });
}

for (const c of [
  { title: 'case-insensitive enums', service: { ...base, strategy: 'Rolling', loadBalancer: { listeners: [{ port: 80, instancePort: 80, protocol: 'HTTP' }] } } },
  { title: 'durations and numeric strings', service: { ...base, capacity: '3', stepTimeout: '15m', healthCheckGracePeriod: '90s', batchSize: '50%' } },
  { title: 'empty (null) optional keys', service: { ...base, keyName: null, tags: null } },
  { title: 'an ALB the program creates', service: { ...base, subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], elbv2: { type: 'Application', listeners: [{ port: 80, protocol: 'http' }], targetGroup: { port: 8080, healthCheck: { path: '/health', matcher: '200-299' }, deregistrationDelay: '30s' } } } },
  { title: 'a secure userData and tag value (as in a stack file)', service: { ...base, userData: { secure: 'v1:abc' }, tags: { team: { secure: 'v1:def' } } }, toolSkips: true },
]) {
  test(`schema accepts ${c.title}`, (t) => {
    const validate = validator();
    t.true(validate(doc(c.service)), JSON.stringify(validate.errors));
    if (!c.toolSkips) t.notThrows(() => parseServices({ web: c.service }, 'qa'));
  });
}

test('schema refuses an unknown asg-deploy:* key and a stack file without services, and allows other namespaces', (t) => {
  const validate = validator();
  t.false(validate(doc(base, { 'asg-deploy:service': {} })));
  t.false(validate({ config: { 'aws:region': 'us-east-1' } }));
  t.true(validate(doc(base, { 'aws:region': 'us-east-1', 'myapp:flag': true })));
});
