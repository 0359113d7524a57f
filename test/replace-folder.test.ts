/**
 * A committed model is replaced only once its replacement is complete: a failing export (or a
 * failing step after it) leaves the old folder exactly as it was, with no temporary folder behind.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../tools/backend/select.js';
import { exportModel } from '../tools/model/export.js';
import { ModelFileError, replaceFolder } from '../tools/model/file-io.js';
import { STUDENT_DIR } from './helpers/second-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-replace-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every file of a folder with its bytes, to compare a folder before and after. */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('replacing a folder', () => {
  it('creates a folder that does not exist yet, leaving nothing else in its parent', async () => {
    const parent = join(tmp, 'fresh');
    const out = join(parent, 'model');
    const result = await replaceFolder(out, (dir) => {
      writeFileSync(join(dir, 'a.txt'), 'new');
      return 42;
    });
    expect(result).toBe(42);
    expect(snapshot(out)).toEqual({ 'a.txt': Buffer.from('new').toString('base64') });
    expect(readdirSync(parent)).toEqual(['model']);
    // Served to browsers by whatever user runs the web server: readable by all, not owner-only.
    expect(statSync(out).mode & 0o777).toBe(0o755);
  });

  it('swaps in the new contents: files of the old folder that the new one lacks are gone', async () => {
    const parent = join(tmp, 'swap');
    const out = join(parent, 'model');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'a.txt'), 'old');
    writeFileSync(join(out, 'stale.txt'), 'old');
    await replaceFolder(out, (dir) => writeFileSync(join(dir, 'a.txt'), 'new'));
    expect(snapshot(out)).toEqual({ 'a.txt': Buffer.from('new').toString('base64') });
    expect(readdirSync(parent)).toEqual(['model']);
  });

  it('a step that fails half way leaves the old folder intact and removes its partial work', async () => {
    const parent = join(tmp, 'fail');
    const out = join(parent, 'model');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'model.json'), '{"old": true}');
    const before = snapshot(out);
    await expect(replaceFolder(out, async (dir) => {
      writeFileSync(join(dir, 'model.json'), '{"new": "half written"}');
      throw new Error('evaluation failed');
    })).rejects.toThrow('evaluation failed');
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(parent)).toEqual(['model']);
  });
});

describe('exporting over a committed model', () => {
  const out = join(tmp, 'models', 'student');
  const broken = join(tmp, 'broken-run');

  beforeAll(async () => {
    await selectBackend('wasm', 1);
    await exportModel(STUDENT_DIR, out);
    // A source whose weights are cut short: loading it fails inside the export.
    mkdirSync(broken);
    copyFileSync(join(STUDENT_DIR, 'model.json'), join(broken, 'model.json'));
    writeFileSync(join(broken, 'weights.bin'), readFileSync(join(STUDENT_DIR, 'weights.bin')).subarray(0, 100));
  });

  it('a failing export leaves the old model folder intact', async () => {
    const before = snapshot(out);
    expect(Object.keys(before)).toEqual(['export.json', 'model.json', 'weights.bin']);
    await expect(exportModel(broken, out)).rejects.toThrow(ModelFileError);
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(join(tmp, 'models'))).toEqual(['student']);
  });

  it('a good export replaces it', async () => {
    const info = await exportModel(STUDENT_DIR, out);
    expect(JSON.parse(readFileSync(join(out, 'export.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(info)));
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    expect(readdirSync(join(tmp, 'models'))).toEqual(['student']);
  });
});
