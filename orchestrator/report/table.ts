/**
 * The one plain-text table printer (deploy's summary, the chaos suite's outcome table, the
 * benchmark's console table): columns padded to their widest cell, numbers aligned right,
 * strings left, no trailing spaces; optionally a rule of dashes under the header.
 *
 *   textTable([['a', 'n'], ['xyz', 5]])  →  "a    n\n---  ---\nxyz  5"   (numbers right-aligned)
 */
export function textTable(rows: Array<Array<string | number>>, options: { rule?: boolean } = {}): string {
  const rule = options.rule ?? true;
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[], raw: Array<string | number>) =>
    r.map((c, i) => (typeof raw[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(cells[0], rows[0])];
  if (rule) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (let i = 1; i < cells.length; i++) out.push(line(cells[i], rows[i]));
  return out.join('\n');
}
