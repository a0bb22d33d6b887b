import test from 'ava';
import { PassThrough } from 'node:stream';
import { VirtualClock } from '../../orchestrator/clock';
import { LiveView, ProgressModel } from '../../orchestrator/report/live-view';
import { Codes } from '../../orchestrator/report/reporter';
import { DeployCodes, renderSummary, formatDuration } from '../../orchestrator/report/summary';

const services = {
  services: [
    { service: 'rabbit', strategy: 'rolling', target: 'qa-rabbit', groups: ['qa-rabbit'] },
    { service: 'web', strategy: 'ab', target: 'qa-web', groups: ['qa-web-a', 'qa-web-b'] },
  ],
};

test('the model follows each service from the engines\' events: phase, counts, elapsed, last event', (t) => {
  const m = new ProgressModel();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  m.apply(t0, 'info', DeployCodes.services, 'services', services);
  m.apply(t0, 'info', DeployCodes.serviceStart, 'rabbit: rolling', { service: 'rabbit' });
  m.apply(t0, 'info', Codes.plan, 'plan', { asg: 'qa-rabbit', capacity: 3, order: ['i-old', 'i-o2', 'i-o3'] });
  m.apply(t0 + 5_000, 'info', Codes.scale, 'qa-rabbit 3 -> 4', { asg: 'qa-rabbit', from: 3, to: 4 });
  m.apply(t0 + 90_000, 'info', Codes.healthy, 'i-new healthy', { asg: 'qa-rabbit', instanceId: 'i-new', healthy: 4, oldRemaining: 3 });
  m.apply(t0 + 95_000, 'info', Codes.terminate, 'terminating i-old', { asg: 'qa-rabbit', instanceId: 'i-old', oldRemaining: 2 });
  m.apply(t0 + 95_000, 'warn', 'x.y', 'web-b slow', { asg: 'qa-web-b' });
  const [rabbit, web] = m.rows;
  t.is(rabbit.phase, 'replacing');
  t.is(rabbit.desired, 4);
  t.is(rabbit.healthy, 3); // 4 said by the event, then one terminated
  t.is(rabbit.oldRemaining, 2);
  t.is(web.last, 'WARN: web-b slow');
  // Without explicit counts, they are derived: a plan of 3 with 3 to replace, an A/B color growing.
  const d = new ProgressModel();
  d.apply(t0, 'info', DeployCodes.services, 'services', services);
  d.apply(t0, 'info', Codes.plan, 'plan', { asg: 'qa-rabbit', capacity: 3, order: ['i-1', 'i-2', 'i-3'] });
  d.apply(t0, 'info', Codes.scale, '3 -> 4', { asg: 'qa-rabbit', from: 3, to: 4 });
  d.apply(t0, 'info', Codes.healthy, 'i-4 healthy', { asg: 'qa-rabbit', instanceId: 'i-4' });
  d.apply(t0, 'info', Codes.terminate, 'i-1', { asg: 'qa-rabbit', instanceId: 'i-1', decrement: true });
  t.deepEqual([d.rows[0].healthy, d.rows[0].desired, d.rows[0].oldRemaining], [3, 3, 2]);
  // a surge instance that never became healthy, removed: neither healthy nor old count changes
  d.apply(t0, 'info', Codes.terminate, 'i-9', { asg: 'qa-rabbit', instanceId: 'i-9', decrement: true });
  t.deepEqual([d.rows[0].healthy, d.rows[0].oldRemaining], [3, 2]);
  d.apply(t0, 'info', Codes.scale, '0 -> 4', { asg: 'qa-web-b', from: 0, to: 4 });
  d.apply(t0, 'info', Codes.healthy, 'b1', { asg: 'qa-web-b', instanceId: 'b1' });
  d.apply(t0, 'info', Codes.scale, '4 -> 0', { asg: 'qa-web-a', from: 4, to: 0 });
  t.deepEqual([d.rows[1].healthy, d.rows[1].desired, d.rows[1].oldRemaining], [1, 4, 4]);
  d.apply(t0, 'info', 'ab.drained', 'drained', { asg: 'qa-web-a' });
  t.is(d.rows[1].oldRemaining, 0);
  const lines = m.render(t0 + 95_000, 200);
  t.regex(lines[0], /^rabbit\s+rolling\s+replacing\s+3\/4 healthy, 2 old\s+1m 35s\s+terminating i-old$/);
  t.regex(lines[1], /^web\s+ab\s+waiting/);
});

test('the live view redraws in place on a TTY and keeps warnings above it', (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const view = new LiveView(new VirtualClock(), out);
  view.emit('info', DeployCodes.services, 'services', services);
  view.emit('info', DeployCodes.serviceStart, 'rabbit: rolling', { service: 'rabbit' });
  view.emit('warn', 'notify.failed', 'webhook failed', {});
  t.true(text.includes('\x1b[2A\x1b[0J')); // erased the previous two-line frame
  t.regex(text, /WARN webhook failed\n/);
});

test('the summary table lines up and says why a service did not run', (t) => {
  const table = renderSummary([
    { service: 'rabbit', strategy: 'rolling', target: 'qa-rabbit', result: 'done', replaced: 3, seconds: 252, apiCalls: 41, detail: '' },
    { service: 'web', strategy: 'ab', target: 'qa-web', result: 'not run', replaced: 0, seconds: 0, apiCalls: 0, detail: 'rabbit failed first' },
  ]);
  const lines = table.split('\n');
  t.regex(lines[0], /^service\s+strategy\s+replaced\s+duration\s+API calls\s+result$/);
  t.regex(lines[1], /^rabbit\s+rolling\s+3\s+4m 12s\s+41\s+done$/);
  t.regex(lines[2], /^web\s+ab\s+0\s+-\s+0\s+not run: rabbit failed first$/);
  t.is(lines[1].indexOf('3'), lines[0].indexOf('replaced'));
  t.is(formatDuration(3720), '1h 2m');
});

test('the live view ticks on the clock so elapsed moves without events, and stops on finish', async (t) => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const clock = new VirtualClock();
  const view = new LiveView(clock, out);
  view.emit('info', DeployCodes.services, 'services', services);
  view.emit('info', DeployCodes.serviceStart, 'rabbit: rolling', { service: 'rabbit' });
  view.start();
  await clock.sleep(65_500);
  t.regex(text, /rabbit\s+rolling\s+starting\s+1m 05s/);
  view.finish();
  t.is(clock.pending, 0, 'the ticker stopped');
});

test('parallel services: interleaved rollout events (each carrying its service) land on their own lines', (t) => {
  const m = new ProgressModel();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  m.apply(t0, 'info', DeployCodes.services, 'services', services);
  m.apply(t0, 'info', DeployCodes.serviceStart, 'rabbit: rolling', { service: 'rabbit' });
  m.apply(t0, 'info', DeployCodes.serviceStart, 'web: ab', { service: 'web' });
  m.apply(t0 + 1_000, 'warn', 'x.rabbit', 'rabbit slow', { service: 'rabbit' });
  m.apply(t0 + 2_000, 'warn', 'x.web', 'web slow', { service: 'web' });
  const [rabbit, web] = m.rows;
  t.is(rabbit.last, 'WARN: rabbit slow');
  t.is(web.last, 'WARN: web slow');
  const lines = m.render(t0 + 3_000);
  t.true(lines.some((l) => l.includes('rabbit') && l.includes('rabbit slow')));
  t.true(lines.some((l) => l.includes('web') && l.includes('web slow')));
});

/**
 * The live view's numbers against the sandbox's truth over a whole `roll` (issue: "done 6/3
 * healthy, 3 old": the plan's `order` entries are objects and were stringified, so terminations
 * never lowered the counts). At every event the view's "old" is the number of outdated instances
 * still in the group, its healthy count never exceeds what the group holds, and at the end it
 * shows capacity/capacity healthy and 0 old.
 */
for (const declared of [true, false]) test(`the live view of a rolling rollout tracks the sandbox: old and healthy counts at every event (${declared ? 'deploy' : 'roll'})`, async (t) => {
  const { Sandbox } = await import('../../orchestrator/sandbox');
  const { rollGroup } = await import('../../orchestrator/rollout/rolling/runner');
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: 'qa-rabbit', capacity: 3, max: 3, elb: { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 } });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  const model = new ProgressModel();
  // deploy names its services first; roll does not (its plan opens the row)
  if (declared) model.apply(sb.clock.now(), 'info', DeployCodes.services, 'services', { services: [{ service: 'qa-rabbit', strategy: 'rolling', target: 'qa-rabbit', groups: ['qa-rabbit'] }] });
  const mismatches: string[] = [];
  let events = 0;
  const truth = () => {
    const g = sb.world.state.groups['qa-rabbit'];
    const live = sb.world.groupInstances(g).filter((i) => sb.world.isActive(i));
    return { old: live.filter((i) => i.imageId !== 'ami-0new000000000000').length, live: live.length };
  };
  const reporter = {
    emit(level: 'info' | 'warn' | 'error', code: string, message: string, data: Record<string, unknown> = {}) {
      model.apply(sb.clock.now(), level, code, message, data);
      const row = model.rows[0];
      if (!row) return;
      events++;
      const now = truth();
      if (row.oldRemaining !== undefined && row.oldRemaining !== now.old) mismatches.push(`${code}: view ${row.oldRemaining} old, sandbox ${now.old}`);
      if (row.healthy !== undefined && row.healthy > now.live) mismatches.push(`${code}: view ${row.healthy} healthy, group holds ${now.live}`);
    },
  };
  await rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit' });
  t.true(events > 5);
  t.deepEqual(mismatches, []);
  const [row] = model.rows;
  t.is(row.service, 'qa-rabbit');
  t.deepEqual([row.phase, row.healthy, row.desired, row.oldRemaining], ['done', 3, 3, 0]);
  t.regex(model.render(sb.clock.now(), 200).at(-1)!, /^qa-rabbit\s+rolling\s+done\s+3\/3 healthy, 0 old/);
  sb.dispose();
});

/**
 * On a real pseudo-terminal (util-linux `script`) of 6 rows × 70 columns: the view hides the
 * cursor while it draws and shows it again at the end, and never moves up (to erase) more lines
 * than the terminal has rows − 1, however many services there are; no line is wider than the terminal.
 */
test('on a small pseudo-terminal the live view hides the cursor and never erases more rows than the screen has', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
  } catch {
    if (process.env.CI) t.fail('script (util-linux) is needed for the pseudo-terminal test');
    else t.pass('no `script` binary: skipped');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pty-'));
  const driver = path.join(dir, 'driver.ts');
  const root = path.resolve(__dirname, '..', '..');
  fs.writeFileSync(
    driver,
    `import { VirtualClock } from ${JSON.stringify(path.join(root, 'orchestrator/clock'))};
import { LiveView } from ${JSON.stringify(path.join(root, 'orchestrator/report/live-view'))};
const clock = new VirtualClock();
const view = new LiveView(clock, process.stderr);
const services = Array.from({ length: 12 }, (_, i) => ({ service: 'service-' + i, strategy: 'rolling', target: 'qa-s' + i, groups: ['qa-s' + i] }));
view.emit('info', 'deploy.services', 'services', { services });
for (const s of services) {
  view.emit('info', 'deploy.service.start', s.service + ': rolling with a long explanation that is wider than the terminal', { service: s.service });
  view.emit('info', 'rollout.plan', 'plan', { asg: s.target, capacity: 3, order: [{ instanceId: 'i-1', healthy: true }] });
}
view.emit('warn', 'x.y', 'a warning above the view', {});
view.finish();
`,
  );
  const out = execFileSync('script', ['-qec', `stty rows 6 cols 70; ${process.execPath} --import tsx ${driver}`, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.true(out.includes('\x1b[?25l'), 'cursor hidden');
  t.true(out.lastIndexOf('\x1b[?25h') > out.lastIndexOf('\x1b[?25l'), 'cursor shown again at the end');
  const ups = [...out.matchAll(/\x1b\[(\d+)A/g)].map((m) => Number(m[1]));
  t.true(ups.length > 10);
  t.true(Math.max(...ups) <= 5, `moved up ${Math.max(...ups)} rows on a 6-row terminal`);
  t.regex(out, /… \d+ more/);
  // eslint-disable-next-line no-control-regex
  const widest = Math.max(...out.split(/\r?\n/).map((l) => l.replace(/\x1b\[[\d;?]*[A-Za-z]/g, '').length));
  t.true(widest <= 70, `a line of ${widest} columns`);
});

test('a canary, checkpoint or bake hold shows its phase and counts down to its end; passed, the countdown goes', (t) => {
  const m = new ProgressModel();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  m.apply(t0, 'info', Codes.plan, 'plan', { asg: 'qa-rabbit', capacity: 3, order: ['i-1', 'i-2', 'i-3'] });
  m.apply(t0 + 60_000, 'info', 'rollout.checkpoint', 'canary holding', { asg: 'qa-rabbit', kind: 'canary', state: 'start', phase: 'canary', until: new Date(t0 + 360_000).toISOString() });
  t.is(m.rows[0].phase, 'canary');
  t.regex(m.render(t0 + 120_000, 200)[0], /4m 00s left/);
  t.regex(m.render(t0 + 359_000, 200)[0], /1s left/);
  m.apply(t0 + 361_000, 'info', 'rollout.checkpoint', 'canary passed', { asg: 'qa-rabbit', kind: 'canary', state: 'passed', phase: 'replacing', until: new Date(t0 + 360_000).toISOString() });
  t.notRegex(m.render(t0 + 361_000, 200)[0], /left/);
  m.apply(t0 + 400_000, 'info', 'rollout.bake', 'baking', { asg: 'qa-rabbit', kind: 'bake', state: 'start', phase: 'baking', until: new Date(t0 + 1_000_000).toISOString() });
  t.regex(m.render(t0 + 400_000, 200)[0], /baking .*10m 00s left/);
  // ab --keep-old: the window counts down on the environment's row.
  const ab = new ProgressModel();
  ab.apply(t0, 'info', Codes.plan, 'plan', { environment: 'qa-web', from: 'qa-web-a', to: 'qa-web-b', count: 4 });
  ab.apply(t0 + 1000, 'info', 'ab.keep-old', 'keeping a', { environment: 'qa-web', asg: 'qa-web-b', keep: 'qa-web-a', state: 'start', phase: 'keep-old', until: new Date(t0 + 601_000).toISOString() });
  t.regex(ab.render(t0 + 1000, 200)[0], /keep-old .*10m 00s left/);
});

test('the live view shows an A/B swap on target groups shifting traffic in steps (traffic.shift), and a switch-back', (t) => {
  const m = new ProgressModel();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  m.apply(t0, 'info', DeployCodes.services, 'services', services);
  m.apply(t0, 'info', Codes.scale, 'qa-web-b 0 -> 2', { service: 'web', asg: 'qa-web-b', from: 0, to: 2 });
  m.apply(t0 + 60_000, 'info', Codes.trafficShift, 'qa-web: traffic 0 % → 10 %', { service: 'web', environment: 'qa-web', share: 10, from: 0, weights: { 'qa-web-a': 90, 'qa-web-b': 10 } });
  const web = m.rows[1];
  t.is(web.phase, 'shifting');
  t.is(web.traffic, 10);
  t.regex(m.render(t0 + 61_000, 200)[1], /traffic 10%/);
  m.apply(t0 + 180_000, 'info', Codes.trafficShift, 'qa-web: traffic 50 % → 100 %', { service: 'web', environment: 'qa-web', share: 100, from: 50 });
  t.regex(m.render(t0 + 181_000, 200)[1], /traffic 100%/);
  m.apply(t0 + 200_000, 'info', Codes.trafficShift, 'switch back', { service: 'web', environment: 'qa-web', share: 0, from: 100 });
  t.regex(m.render(t0 + 201_000, 200)[1], /traffic 0%/);
});

test('a rolling rollback shows on the same row after the failure: rolling back with its own plan counts, then rolled back', (t) => {
  const m = new ProgressModel();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  m.apply(t0, 'info', Codes.plan, 'plan', { asg: 'qa-rabbit', capacity: 4, order: [{ instanceId: 'i-1' }, { instanceId: 'i-2' }, { instanceId: 'i-3' }, { instanceId: 'i-4' }] });
  m.apply(t0 + 60_000, 'error', Codes.failed, 'alarm', { asg: 'qa-rabbit' });
  t.is(m.rows[0].phase, 'FAILED');
  m.apply(t0 + 60_000, 'warn', 'rollout.rollback', 'rolling back', { asg: 'qa-rabbit', state: 'start', phase: 'rolling back' });
  m.apply(t0 + 60_000, 'info', 'rollout.rollback', 'rollback: plan', { asg: 'qa-rabbit', state: 'plan', phase: 'rolling back', capacity: 4, order: [{ instanceId: 'i-9' }, { instanceId: 'i-8' }] });
  t.is(m.rows[0].phase, 'rolling back');
  t.is(m.rows[0].oldRemaining, 2, 'the rollback replaces the 2 new instances');
  t.regex(m.render(t0 + 120_000, 200)[0], /rolling back .*4\/4 healthy, 2 old .*2m 00s/);
  m.apply(t0 + 180_000, 'info', 'rollout.rollback', 'rollback: done', { asg: 'qa-rabbit', state: 'done', phase: 'rolled back' });
  t.is(m.rows[0].phase, 'rolled back');
  t.regex(m.render(t0 + 600_000, 200)[0], /rolled back .* 3m 00s/);
});
