/**
 * `--notify-webhook URL`: posts a deploy's start, success and failure as Slack-compatible JSON
 * (`{"text": "..."}`; Slack incoming webhooks, Mattermost, Teams' Slack-compatible endpoints).
 * A webhook that fails never fails the deploy: it becomes a `notify.failed` warn event.
 */
import type { Reporter } from '../report/reporter';
import { DeployCodes } from '../report/summary';

export type NotifyKind = 'start' | 'success' | 'failure';

export interface Notifier {
  notify(kind: NotifyKind, text: string): Promise<void>;
}

export const noNotifier: Notifier = { notify: async () => {} };

const ICON: Record<NotifyKind, string> = { start: ':rocket:', success: ':white_check_mark:', failure: ':x:' };

/** Posts to a webhook; never throws (a failure is reported as a warning). */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly reporter: Reporter,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {}

  async notify(kind: NotifyKind, text: string): Promise<void> {
    const body = JSON.stringify({ text: `${ICON[kind]} ${text}` });
    const doFetch = this.options.fetch ?? fetch;
    try {
      const res = await doFetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        // a network timeout, not a rollout wait: real time is right here
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      await res.arrayBuffer();
    } catch (err) {
      const raw = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      // fetch's own messages may quote the URL ("Failed to parse URL from <url>"): never the token.
      const reason = maskUrl(raw, this.url);
      this.reporter.emit('warn', DeployCodes.notifyFailed, `webhook notification (${kind}) failed: ${reason}; the deploy goes on`, {
        url: redact(this.url),
        kind,
        reason,
      });
    }
  }
}

/** Webhook URLs carry secrets in their path: keep scheme, host and the first path segment. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    const first = u.pathname.split('/').filter(Boolean)[0];
    return `${u.protocol}//${u.host}/${first ? `${first}/…` : ''}`;
  } catch {
    return '(invalid url)';
  }
}

/** `text` with the webhook URL, and each of its path segments after the first, replaced by the redacted form. */
export function maskUrl(text: string, url: string): string {
  let out = text.split(url).join(redact(url));
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  for (const segment of path.split(/[/?#&=]/).filter(Boolean).slice(1)) {
    if (segment.length >= 6) out = out.split(segment).join('…');
  }
  return out;
}
