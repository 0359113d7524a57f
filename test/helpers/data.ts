/**
 * Where the real FER+ data lives for tests: the same folder the CLIs use by default. Only data and
 * browser tier files import this (test/tiers.ts); vitest.config.ts leaves them out when the data is
 * missing, so importing it without the data is a mistake worth a loud error.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveDataDir } from '../../tools/data/ferplus.js';

export const DATA_DIR = resolveDataDir();
export const VALID_DIR = resolve(DATA_DIR, 'FER2013Valid');

if (process.env.HALFFACE_TEST_TIER === 'unit') {
  throw new Error('a unit-tier test imports the FER+ data: list its file in DATA_FILES (or BROWSER_FILES) in test/tiers.ts');
}
if (!existsSync(resolve(VALID_DIR, 'label.csv'))) {
  throw new Error(`tests need the FER+ data: ${VALID_DIR}/label.csv not found (set HALFFACE_DATA)`);
}
