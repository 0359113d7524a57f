/** Where the real FER+ data lives for tests: the same folder the CLIs use by default. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveDataDir } from '../../tools/data/ferplus.js';

export const DATA_DIR = resolveDataDir();
export const VALID_DIR = resolve(DATA_DIR, 'FER2013Valid');

if (!existsSync(resolve(VALID_DIR, 'label.csv'))) {
  throw new Error(`tests need the FER+ data: ${VALID_DIR}/label.csv not found (set HALFFACE_DATA)`);
}
