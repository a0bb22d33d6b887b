import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VirtualClock } from '../../orchestrator/clock';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { DeployCodes } from '../../orchestrator/report/summary';
import { WebhookNotifier, redact } from '../../orchestrator/notify/webhook';

/** A local webhook receiver on 127.0.0.1 answering `status`. */
async function receiver(status = 200) {
  const bodies: Array<{ path: string; type?: string; body: unknown }> = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', type: req.headers['content-type'], body: JSON.parse(data) });
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret`;
  return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('posts Slack-compatible JSON {text} for start, success and failure', async (t) => {
  const rx = await receiver();
  const reporter = new RecordingReporter(new VirtualClock());
  const n = new WebhookNotifier(rx.url, reporter);
  await n.notify('start', 'deploying stack *qa*');
  await n.notify('success', 'stack *qa* deployed');
  await n.notify('failure', 'deploy of stack *qa* failed');
  await rx.close();
  t.is(rx.bodies.length, 3);
  t.is(rx.bodies[0].type, 'application/json');
  t.is(rx.bodies[0].path, '/services/T000/B000/secret');
  t.deepEqual(rx.bodies.map((b) => Object.keys(b.body as object)), [['text'], ['text'], ['text']]);
  t.regex((rx.bodies[2].body as { text: string }).text, /failed/);
  t.deepEqual(reporter.events, []);
});

test('a failing webhook (HTTP 500) is a warning, never an exception', async (t) => {
  const rx = await receiver(500);
  const reporter = new RecordingReporter(new VirtualClock());
  await t.notThrowsAsync(new WebhookNotifier(rx.url, reporter).notify('start', 'x'));
  await rx.close();
  const warn = reporter.ofCode(DeployCodes.notifyFailed);
  t.is(warn.length, 1);
  t.is(warn[0].level, 'warn');
  t.regex(String(warn[0].data.reason), /HTTP 500/);
  t.notRegex(String(warn[0].data.url), /secret/);
});

test('an unreachable webhook is a warning, never an exception', async (t) => {
  const rx = await receiver();
  await rx.close(); // nothing listens there any more
  const reporter = new RecordingReporter(new VirtualClock());
  await t.notThrowsAsync(new WebhookNotifier(rx.url, reporter, { timeoutMs: 2000 }).notify('failure', 'x'));
  t.is(reporter.ofCode(DeployCodes.notifyFailed).length, 1);
});

test('redact keeps host and the first path segment only', (t) => {
  t.is(redact('https://hooks.slack.com/services/T1/B2/XYZ'), 'https://hooks.slack.com/services/…');
});
