/** Small FER-layout folders of clear, real FER2013Valid faces, for the mouth tests. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitCsvLine } from '../../tools/data/ferplus.js';
import { VALID_DIR } from './data.js';

/** label.csv rows of FER2013Valid whose vote column `c` has at least `min` of 10 votes. */
export function clearRows(c: number, min: number, count: number): string[] {
  const lines = readFileSync(join(VALID_DIR, 'label.csv'), 'utf8').split(/\r?\n/).filter((l) => l.trim());
  return lines.filter((l) => Number(splitCsvLine(l)[2 + c]) >= min).slice(0, count);
}

/** A FER-layout folder (its FER2013Valid/ holds the given label.csv rows and their images). */
export function makeDataDir(rows: string[]): string {
  const base = mkdtempSync(join(tmpdir(), 'halfface-mouth-'));
  const dir = join(base, 'FER2013Valid');
  mkdirSync(dir);
  for (const row of rows) copyFileSync(join(VALID_DIR, splitCsvLine(row)[0]), join(dir, splitCsvLine(row)[0]));
  writeFileSync(join(dir, 'label.csv'), `${rows.join('\n')}\n`);
  return base;
}
