/** Shared pieces of the simulated APIs: call context, pagination, validation. */
import { SimFault } from './faults';
import type { World } from './world';

export interface CallCtx {
  actor: string;
  operation: string;
  /** Sandbox-wide cap on page sizes (tests set it tiny). */
  pageSize?: number;
}

/** An operation: SDK input in, SDK output out (without $metadata). Throws SimFault. */
export type Handler = (w: World, input: any, ctx: CallCtx) => any;

/**
 * One page of `items`. Tokens are opaque strings encoding the offset; the page size is the
 * smaller of what the caller asked for and the sandbox's `pageSize`.
 */
export function page<T>(items: T[], token: string | undefined, requested: number | undefined, ctx: CallCtx, defaultSize = 100): { items: T[]; next?: string } {
  let start = 0;
  if (token) {
    const m = /^sbx:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!m) throw new SimFault(ctx.operation.startsWith('Describe') && token ? 'InvalidNextToken' : 'ValidationError', 'The token is invalid.');
    start = Number(m[1]);
  }
  const size = Math.max(1, Math.min(requested ?? defaultSize, ctx.pageSize ?? Infinity));
  const slice = items.slice(start, start + size);
  const nextStart = start + slice.length;
  return { items: slice, next: nextStart < items.length ? Buffer.from(`sbx:${nextStart}`).toString('base64') : undefined };
}

export function validation(message: string): SimFault {
  return new SimFault('ValidationError', message, 400);
}

export function requireString(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0) throw validation(`1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
  return v;
}

/** A required non-negative integer parameter (AWS's own validation message shape). */
export function requireInt(v: unknown, name: string): number {
  if (v === undefined || v === null) throw validation(`1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw validation(`1 validation error detected: Value '${String(v)}' at '${name}' failed to satisfy constraint: Member must have value greater than or equal to 0`);
  return n;
}

export function date(t: number | undefined): Date | undefined {
  return t === undefined ? undefined : new Date(t);
}

/** EC2-style filters: [{Name, Values}] -> predicate helpers. */
export function filterMap(filters: Array<{ Name?: string; Values?: string[] }> | undefined): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of filters ?? []) if (f.Name) m.set(f.Name, f.Values ?? []);
  return m;
}

/** EC2 filter value match, supporting `*` and `?` wildcards. */
export function matches(values: string[], actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return values.some((v) => (v.includes('*') || v.includes('?') ? new RegExp('^' + v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$').test(actual) : v === actual));
}
