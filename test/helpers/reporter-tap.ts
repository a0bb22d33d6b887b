import type { Reporter } from '../../orchestrator/report/reporter';

/**
 * A reporter that passes every event on to `inner` and calls `f` once, at the first event with
 * `code` (for `asg`, when given) — where a test injects a fault (SIGINT, a crash) mid-run.
 */
export function onFirstEvent(inner: Reporter, code: string, asg: string | undefined, f: () => void): Reporter {
  let fired = false;
  return {
    emit(level, c, message, data) {
      inner.emit(level, c, message, data);
      if (!fired && c === code && (!asg || data?.asg === asg)) {
        fired = true;
        f();
      }
    },
  };
}
