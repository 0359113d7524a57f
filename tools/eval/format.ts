/** Text renderings of metrics for the terminal and the model cards. */
import { EXPRESSIONS } from '../../src/core/labels.js';
import type { Metrics } from './metrics.js';

export const percent = (x: number | null, digits = 2) => (x === null ? 'n/a' : `${(x * 100).toFixed(digits)}%`);

export function perClassTable(m: Metrics): string {
  const rows = EXPRESSIONS.map((e) => `| ${e} | ${m.confusion[EXPRESSIONS.indexOf(e)].reduce((a, b) => a + b, 0)} | ${percent(m.perClass[e])} |`);
  return ['| class | images | recall |', '|---|---:|---:|', ...rows].join('\n');
}

export function confusionText(m: Metrics): string {
  const w = 10;
  const head = `${'true \\ pred'.padEnd(12)}${EXPRESSIONS.map((e) => e.slice(0, w - 1).padStart(w)).join('')}`;
  const rows = m.confusion.map((row, i) => `${EXPRESSIONS[i].padEnd(12)}${row.map((v) => String(v).padStart(w)).join('')}`);
  return [head, ...rows].join('\n');
}

/** The accuracy / mean-recall trade-off of `npm run eval -- --balance a,b,c`: one row per tau. */
export function balanceTable(rows: readonly (Metrics & { tau: number })[]): string {
  const head = `| tau | accuracy | mean recall | ${EXPRESSIONS.join(' | ')} |`;
  const rule = `|---:|---:|---:|${EXPRESSIONS.map(() => '---:').join('|')}|`;
  const body = rows.map((r) => `| ${r.tau} | ${percent(r.accuracy)} | ${percent(r.meanRecall)} | ${EXPRESSIONS.map((e) => percent(r.perClass[e], 1)).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}
