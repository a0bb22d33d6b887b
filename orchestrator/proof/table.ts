/**
 * Text tables: the chaos suite's scenarios × outcomes, and the benchmark's markdown table.
 * Pure string building; the CLIs print what these return.
 */

/** Renders rows as an aligned plain-text table (first row is the header). Numbers align right. */
export { textTable } from '../report/table';
import { textTable } from '../report/table';

/** Renders rows as a GitHub markdown table (first row is the header). */
export function markdownTable(rows: Array<Array<string | number>>, align?: Array<'l' | 'r'>): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, '\\|');
  const header = `| ${rows[0].map(esc).join(' | ')} |`;
  const sep = `|${rows[0].map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---')).join('|')}|`;
  return [header, sep, ...rows.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** One run's outcome for the chaos table. */
export interface OutcomeRow {
  strategy: string;
  tags: string[];
  /** Exit of the last attempt (undefined: did not finish). */
  exit?: number;
  /** Was the run interrupted (crash or SIGINT) and re-run? */
  rerun: boolean;
  passed: boolean;
}

/**
 * Scenarios × outcomes: one row per strategy and per fault tag (a run with several faults counts
 * in each of its rows), columns: runs, exit 0 / 1 / 3 / other, passed, failed; and a total row.
 */
export function outcomeTable(runs: OutcomeRow[]): string {
  const keys = new Map<string, OutcomeRow[]>();
  const add = (k: string, r: OutcomeRow) => {
    const list = keys.get(k) ?? [];
    list.push(r);
    keys.set(k, list);
  };
  for (const r of runs) {
    add(`strategy:${r.strategy}`, r);
    for (const t of r.tags) add(t, r);
  }
  const order = [...keys.keys()].sort((a, b) => {
    const sa = a.startsWith('strategy:') ? 0 : 1;
    const sb = b.startsWith('strategy:') ? 0 : 1;
    return sa - sb || a.localeCompare(b);
  });
  const rows: Array<Array<string | number>> = [['scenario', 'runs', 'done(0)', 'halted(1)', 'refused(3)', 'other', 'passed', 'failed']];
  const summarize = (name: string, list: OutcomeRow[]) => {
    const count = (p: (r: OutcomeRow) => boolean) => list.filter(p).length;
    rows.push([
      name,
      list.length,
      count((r) => r.exit === 0),
      count((r) => r.exit === 1),
      count((r) => r.exit === 3),
      count((r) => r.exit !== 0 && r.exit !== 1 && r.exit !== 3),
      count((r) => r.passed),
      count((r) => !r.passed),
    ]);
  };
  for (const k of order) summarize(k, keys.get(k)!);
  summarize('all', runs);
  return textTable(rows);
}
