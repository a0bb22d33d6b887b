/**
 * The one duration grammar, for command-line flags and the stack config alike:
 *
 *   "90" or 90 → 90 s (a bare number is seconds)      "90s", "1.5m" → 90 s
 *   "500ms" → 0.5 s                                    "10 m", "10m" → 600 s
 *   "1h" → 3600 s                                      "soon", "-5", "5x", "" → not a duration
 *
 * Units: ms, s, m, h; a space between the number and the unit is allowed; case does not matter.
 * Callers add their own bounds (a flag wants > 0; a config key may want whole seconds).
 */
export const DURATION_FORMS = 'seconds, or a duration like 500ms, 90s, 1.5m, 10m, 1h';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds, or undefined when `value` is not a duration (negative numbers are not). */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 's').toLowerCase() as keyof typeof UNIT_MS;
  return Number(m[1]) * UNIT_MS[unit];
}
