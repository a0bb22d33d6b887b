/**
 * A webhook URL is a credential in its path. fetch quotes a URL it cannot parse in its error
 * ("Failed to parse URL from <url>", Node's undici); the notify.failed warning must not.
 */
import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { WebhookNotifier, maskUrl } from '../../orchestrator/notify/webhook';
import { RecordingReporter } from '../../orchestrator/report/reporter';

const TOKEN = 'CANARYxoxbT0KEN9f3';

test('a URL without a scheme fails in fetch; the warning names the failure, not the token', async (t) => {
  const reporter = new RecordingReporter(new VirtualClock());
  await new WebhookNotifier(`hooks.slack.com/services/T0ABC/B0DEF/${TOKEN}`, reporter).notify('start', 'deploying');
  const [e] = reporter.events;
  t.is(e.code, 'notify.failed');
  t.regex(e.message, /Failed to parse URL/);
  t.false(JSON.stringify(e).includes(TOKEN), JSON.stringify(e));
});

test('maskUrl: the whole URL and its secret path segments', (t) => {
  const url = `https://hooks.slack.com/services/T0ABC123/B0DEF456/${TOKEN}`;
  t.is(maskUrl(`POST ${url} failed`, url), 'POST https://hooks.slack.com/services/… failed');
  t.is(maskUrl(`token ${TOKEN} rejected`, url), 'token … rejected');
  t.is(maskUrl('connect ECONNREFUSED 10.0.0.1:443', url), 'connect ECONNREFUSED 10.0.0.1:443');
});
