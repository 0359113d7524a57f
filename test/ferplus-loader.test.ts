import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { availableSplits, DataError, decodeFace, loadRawSplit, loadSplit } from '../tools/data/ferplus.js';
import { DATA_DIR, VALID_DIR } from './helpers/data.js';

const validLines = readFileSync(join(VALID_DIR, 'label.csv'), 'utf8').trim().split('\n');
const fileOf = (line: string) => line.split(',')[0];

/** A FER+ folder holding the first n real Valid images, with extra label rows appended. */
function makeFolder(n: number, extraRows: string[] = []): string {
  const base = mkdtempSync(join(tmpdir(), 'halfface-ferplus-'));
  const dir = join(base, 'FER2013Valid');
  mkdirSync(dir);
  for (const line of validLines.slice(0, n)) copyFileSync(join(VALID_DIR, fileOf(line)), join(dir, fileOf(line)));
  writeFileSync(join(dir, 'label.csv'), [...validLines.slice(0, n), ...extraRows].join('\n') + '\n');
  return base;
}

describe('FER+ folder loader', () => {
  it('reads real images with their votes; a second load comes from the cache, identical', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'halfface-cache-'));
    const logs: string[] = [];
    const first = loadRawSplit(DATA_DIR, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    const second = loadRawSplit(DATA_DIR, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    expect(logs[0]).toMatch(/decoded 3579 images/);
    expect(logs[1]).toMatch(/from cache/);
    expect(second.names).toEqual(first.names);
    expect(Buffer.from(second.pixels).equals(Buffer.from(first.pixels))).toBe(true);
    expect(Buffer.from(second.votes).equals(Buffer.from(first.votes))).toBe(true);
    // pixel-exact against a direct decode of the first PNG
    const direct = PNG.sync.read(readFileSync(join(VALID_DIR, first.names[0])));
    for (let i = 0; i < FACE_PIXELS; i += 97) expect(first.pixels[i]).toBe(direct.data[4 * i]);
    expect(Array.from(first.votes.subarray(0, 10))).toEqual(validLines[0].split(',').slice(-10).map(Number));
  });

  it('a changed label.csv gets a new cache entry', () => {
    const base = makeFolder(20);
    const cacheDir = mkdtempSync(join(tmpdir(), 'halfface-cache-'));
    const logs: string[] = [];
    loadRawSplit(base, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    writeFileSync(join(base, 'FER2013Valid', 'label.csv'), validLines.slice(0, 19).join('\n') + '\n');
    const again = loadRawSplit(base, 'FER2013Valid', { cacheDir, log: (m) => logs.push(m) });
    expect(logs[1]).toMatch(/decoded 19 images/);
    expect(again.names).toHaveLength(19);
  });

  it('skips and names bad rows: missing image, corrupt PNG, wrong size, malformed votes, short row', () => {
    const base = makeFolder(10);
    const dir = join(base, 'FER2013Valid');
    writeFileSync(join(dir, 'corrupt.png'), readFileSync(join(dir, fileOf(validLines[0]))).subarray(0, 60));
    const small = new PNG({ width: 32, height: 32 });
    small.data.fill(128);
    writeFileSync(join(dir, 'small.png'), PNG.sync.write(small));
    copyFileSync(join(dir, fileOf(validLines[0])), join(dir, 'badvotes.png'));
    const extra = [
      'missing.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0',
      'corrupt.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0',
      'small.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0',
      'badvotes.png,"(0, 0, 48, 48)",10,x,0,0,0,0,0,0,0,0',
      'short.png,"(0, 0, 48, 48)",10,0',
    ];
    const cacheDir = mkdtempSync(join(tmpdir(), 'halfface-cache-'));
    const raw = loadRawSplit(base, 'FER2013Valid', { cacheDir });
    expect(raw.names).toHaveLength(10);
    expect(raw.skipped).toHaveLength(0);
    writeFileSync(join(dir, 'label.csv'), [...validLines.slice(0, 10), ...extra].join('\n'));
    const withBad = loadRawSplit(base, 'FER2013Valid', { cacheDir });
    expect(withBad.names).toEqual(raw.names);
    expect(Buffer.from(withBad.votes).equals(Buffer.from(raw.votes))).toBe(true);
    const reasons = withBad.skipped.map((s) => `${s.file} ${s.reason}`);
    expect(reasons).toHaveLength(5);
    expect(reasons[0]).toMatch(/label\.csv:11 \(missing\.png\).*does not exist/);
    expect(reasons[1]).toMatch(/corrupt\.png.*corrupt PNG/);
    expect(reasons[2]).toMatch(/small\.png.*32x32, expected 48x48/);
    expect(reasons[3]).toMatch(/:14 .*malformed vote count "x"/);
    expect(reasons[4]).toMatch(/:15 .*expected 12 columns, found 4/);
  });

  it('clear errors for a missing folder, a split without label.csv, and an absent split', () => {
    expect(() => availableSplits('/nonexistent/ferplus')).toThrow(DataError);
    expect(() => availableSplits('/nonexistent/ferplus')).toThrow(/data folder not found/);
    const base = mkdtempSync(join(tmpdir(), 'halfface-empty-'));
    mkdirSync(join(base, 'FER2013Train'));
    expect(() => availableSplits(base)).toThrow(/FER2013Train\/label\.csv is missing/);
    const onlyValid = makeFolder(3);
    expect(() => loadRawSplit(onlyValid, 'FER2013Test', { cacheDir: null })).toThrow(/split FER2013Test not found .*present: FER2013Valid/);
  });

  it('accepts a FER2013Test split when the folder has one', () => {
    const base = makeFolder(5);
    mkdirSync(join(base, 'FER2013Test'));
    for (const line of validLines.slice(5, 12)) copyFileSync(join(VALID_DIR, fileOf(line)), join(base, 'FER2013Test', fileOf(line)));
    writeFileSync(join(base, 'FER2013Test', 'label.csv'), validLines.slice(5, 12).join('\n'));
    expect(availableSplits(base)).toEqual(['FER2013Valid', 'FER2013Test']);
    expect(loadRawSplit(base, 'FER2013Test', { cacheDir: null }).names).toHaveLength(7);
  });
});

describe('fer2013.csv + fer2013new.csv loader', () => {
  it('gives the same pixels and labels as the folder layout for the same images', () => {
    const n = 40;
    const base = mkdtempSync(join(tmpdir(), 'halfface-csv-'));
    const pixelRows = ['emotion,pixels,Usage'];
    const voteRows = ['Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF'];
    for (const line of validLines.slice(0, n)) {
      const face = decodeFace(readFileSync(join(VALID_DIR, fileOf(line))));
      if (typeof face === 'string') throw new Error(face);
      pixelRows.push(`0,${Array.from(face).join(' ')},PublicTest`);
      voteRows.push(`PublicTest,${fileOf(line)},${line.split(',').slice(-10).join(',')}`);
    }
    // One training row, and one row whose pixels are malformed.
    pixelRows.push(`0,${new Array(FACE_PIXELS).fill(7).join(' ')},Training`);
    voteRows.push(`Training,fer0000000.png,10,0,0,0,0,0,0,0,0,0`);
    pixelRows.push('0,1 2 3,PublicTest');
    voteRows.push(`PublicTest,broken.png,10,0,0,0,0,0,0,0,0,0`);
    writeFileSync(join(base, 'fer2013.csv'), pixelRows.join('\n'));
    writeFileSync(join(base, 'fer2013new.csv'), voteRows.join('\n'));
    const fromCsv = loadSplit(base, 'FER2013Valid', 'majority', { cacheDir: null });
    const folder = makeFolder(n);
    const fromFolder = loadSplit(folder, 'FER2013Valid', 'majority', { cacheDir: null });
    expect(fromCsv.names).toEqual(fromFolder.names);
    expect(Array.from(fromCsv.labels)).toEqual(Array.from(fromFolder.labels));
    expect(Buffer.from(fromCsv.pixels).equals(Buffer.from(fromFolder.pixels))).toBe(true);
    expect(loadRawSplit(base, 'FER2013Valid', { cacheDir: null }).skipped[0].reason).toMatch(/pixels must be 2304 integers/);
    expect(loadRawSplit(base, 'FER2013Train', { cacheDir: null }).names).toEqual(['fer0000000.png']);
  });
});
