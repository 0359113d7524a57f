/**
 * The tier lists in test/tiers.ts match what each test file actually imports, and the tier plan
 * skips (or refuses) tiers as `npm test` and CI need.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROWSER_DATA_FILES, BROWSER_FILES, DATA_FILES, planTiers } from './tiers.js';

const files = readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
const source = (file: string) => readFileSync(file, 'utf8');
/**
 * The modules a file imports, through the test helpers it imports (only import lines: this file
 * names those modules in strings too).
 */
function imports(file: string): string[] {
  const direct = [...source(file).matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]);
  const helpers = direct.filter((m) => m.startsWith('.') && m.includes('helpers/')).map((m) => join(dirname(file), m.replace(/\.js$/, '.ts')));
  return [...direct, ...helpers.flatMap(imports)];
}
const usesData = (file: string) => imports(file).some((m) => m.endsWith('/data.js') && !m.includes('tools/'));
const usesBrowser = (file: string) => imports(file).some((m) => m === 'playwright-core' || m.endsWith('helpers/e2e-app.js') || m.endsWith('tools/browser/harness.js'));

describe('tier lists', () => {
  it('name only files that exist, each in one tier', () => {
    for (const f of [...DATA_FILES, ...BROWSER_FILES]) expect(files, f).toContain(f);
    expect(DATA_FILES.filter((f) => BROWSER_FILES.includes(f))).toEqual([]);
    expect(BROWSER_DATA_FILES.every((f) => BROWSER_FILES.includes(f))).toBe(true);
  });

  it('put every file that reads FER+ or opens a browser outside the unit tier', () => {
    const unit = files.filter((f) => !DATA_FILES.includes(f) && !BROWSER_FILES.includes(f));
    expect(unit.filter((f) => usesData(f) || usesBrowser(f))).toEqual([]);
    expect(DATA_FILES.filter((f) => files.includes(f) && usesBrowser(f))).toEqual([]);
    expect(BROWSER_FILES.filter((f) => usesData(f))).toEqual(BROWSER_DATA_FILES);
  });
});

describe('planTiers', () => {
  const all = { data: null, browser: null };
  const noData = { data: 'FER+ not found', browser: null };
  const nothing = { data: 'FER+ not found', browser: 'Chromium not found' };

  it('npm test runs what it can and says what it skipped', () => {
    expect(planTiers(undefined, all)).toEqual({ run: ['unit', 'data', 'browser'], skipped: [] });
    const partial = planTiers(undefined, noData);
    expect(partial.run).toEqual(['unit', 'browser']);
    expect(partial.skipped).toEqual([expect.stringMatching(/^data tier skipped: FER\+ not found/), expect.stringMatching(/browser tests that need FER\+ skipped/)]);
    expect(planTiers('', nothing).run).toEqual(['unit']);
    expect(planTiers(undefined, nothing).skipped[1]).toMatch(/browser tier skipped: Chromium not found/);
  });

  it('named tiers are mandatory', () => {
    expect(planTiers('unit, data', all).run).toEqual(['unit', 'data']);
    expect(planTiers('unit', nothing).run).toEqual(['unit']);
    expect(() => planTiers('data', noData)).toThrow(/the data tier cannot run: FER\+ not found/);
    expect(() => planTiers('browser', noData)).toThrow(/the browser tier cannot run: FER\+ not found/);
    expect(() => planTiers('unti', all)).toThrow(/unknown tier "unti"/);
  });
});
