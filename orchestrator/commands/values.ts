/**
 * One parser per kind of flag value, for every command. Each takes the flag's name and the value
 * as the user typed it (flags are declared as strings, so yargs never turns `abc` into NaN), and
 * throws a usage error (exit 2) that quotes the typed value and says what is allowed.
 */
import { DURATION_FORMS, parseDurationMs } from '../duration';
import { usageError } from '../errors';

const given = (v: unknown) => v !== undefined && v !== null;
/** The value as typed; quoted only when it would not read as one word (empty, spaces, quotes). */
const typed = (v: unknown) => (typeof v === 'string' && (v === '' || /[\s"'\\]/.test(v)) ? JSON.stringify(v) : String(v));

function bad(flag: string, v: unknown, allowed: string): never {
  throw usageError('usage', `--${flag} ${typed(v)}: expected ${allowed}`, { flag: `--${flag}`, value: v, allowed });
}

/** A positive duration in ms ("30", "30s", "1.5m", "500ms", "10 m", "1h"); undefined when not given. */
export function durationFlag(flag: string, v: unknown): number | undefined {
  if (!given(v)) return undefined;
  const ms = parseDurationMs(v);
  if (ms === undefined || !(ms > 0)) bad(flag, v, `a positive duration: ${DURATION_FORMS}`);
  return Math.round(ms);
}

/** A whole number ≥ min; undefined when not given. */
export function wholeNumberFlag(flag: string, v: unknown, min: number): number | undefined {
  if (!given(v)) return undefined;
  const s = String(v).trim();
  if (!/^\d+$/.test(s) || Number(s) < min) bad(flag, v, `a whole number ≥ ${min}`);
  return Number(s);
}

/** A number > 0 (e.g. a speed factor); undefined when not given. */
export function positiveNumberFlag(flag: string, v: unknown): number | undefined {
  if (!given(v)) return undefined;
  const s = String(v).trim();
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(s) ? Number(s) : NaN;
  if (!(n > 0)) bad(flag, v, 'a number > 0');
  return n;
}

/** An http(s) URL; undefined when not given. */
export function urlFlag(flag: string, v: unknown): string | undefined {
  if (!given(v)) return undefined;
  const s = String(v).trim();
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || !u.hostname) bad(flag, v, 'an http:// or https:// URL');
  return s;
}

/** An AWS region name such as us-east-1, eu-central-2, us-gov-west-1; undefined when not given. */
export function regionFlag(v: unknown): string | undefined {
  if (!given(v)) return undefined;
  const s = String(v).trim();
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(s)) bad('region', v, 'an AWS region name such as us-east-1 or eu-west-2');
  return s;
}

/** A profile name from ~/.aws/config; undefined when not given. */
export function profileFlag(v: unknown): string | undefined {
  if (!given(v)) return undefined;
  const s = String(v).trim();
  if (!s || /\s/.test(s)) bad('profile', v, 'a profile name from ~/.aws/config (no spaces)');
  return s;
}
