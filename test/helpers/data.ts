/** Where the real FER+ data lives for tests: $HALFFACE_DATA or ../shared/datasets/ferplus. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const DATA_DIR = resolve(process.env.HALFFACE_DATA ?? '../shared/datasets/ferplus');
export const VALID_DIR = resolve(DATA_DIR, 'FER2013Valid');

if (!existsSync(resolve(VALID_DIR, 'label.csv'))) {
  throw new Error(`tests need the FER+ data: ${VALID_DIR}/label.csv not found (set HALFFACE_DATA)`);
}
