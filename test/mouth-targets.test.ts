/**
 * The mouth target cache on real FER+ faces: a small FER-layout folder of real FER2013Valid images
 * (clear surprise, happiness and neutral faces), the 68-point teacher (a dependency, so always
 * installed) run over it, the cache reused, refused when stale, and aligned to loadSplit's order.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MOUTH_BLENDSHAPES } from '../src/core/mouth-blendshapes.js';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { MouthCacheError, ensureSplitTargets, loadMouthTargets } from '../tools/mouth/targets.js';
import { clearRows, makeDataDir } from './helpers/mouth-faces.js';

const K = MOUTH_BLENDSHAPES.length;
const col = (name: string) => MOUTH_BLENDSHAPES.indexOf(name as (typeof MOUTH_BLENDSHAPES)[number]);

const rows = { neutral: clearRows(0, 9, 24), happiness: clearRows(1, 9, 16), surprise: clearRows(2, 9, 24) };
let dataDir: string;
let cacheDir: string;
const logs: string[] = [];

beforeAll(async () => {
  await selectBackend('wasm', 1);
  dataDir = makeDataDir([...rows.neutral, ...rows.happiness, ...rows.surprise]);
  cacheDir = mkdtempSync(join(tmpdir(), 'halfface-mouth-cache-'));
});

describe('mouth targets on real faces', () => {
  it('computes targets once, masks faces the teacher cannot place, and reuses the cache', async () => {
    const first = await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir, log: (m) => logs.push(m) });
    expect(first.cached).toBe(false);
    const { header, data } = first;
    expect(header.n).toBe(64);
    expect(header.blendshapes).toEqual([...MOUTH_BLENDSHAPES]);
    const valid = data.mask.reduce((a, b) => a + b, 0);
    expect(header.missing).toBe(64 - valid);
    expect(Object.values(header.reasons).reduce((a, b) => a + b, 0)).toBe(header.missing);
    expect(valid).toBeGreaterThan(48);
    for (let i = 0; i < header.n; i++) {
      const row = Array.from(data.targets.subarray(i * K, (i + 1) * K));
      // A missing face has no targets at all, never zeros; a placed face has all K in [0, 1].
      if (data.mask[i]) expect(row.every((v) => v >= 0 && v <= 1)).toBe(true);
      else expect(row.every(Number.isNaN)).toBe(true);
    }
    const again = await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir });
    expect(again.cached).toBe(true);
    expect(Array.from(again.data.mask)).toEqual(Array.from(data.mask));
  });

  it('reads higher jawOpen on surprise than on neutral faces and more smile on happy ones', () => {
    const split = loadSplit(dataDir, 'FER2013Valid', 'majority', { cacheDir: null });
    const { targets, mask } = loadMouthTargets(dataDir, 'FER2013Valid', split.names, { teacher: 'landmark68', cacheDir });
    const meanOf = (label: number, f: (i: number) => number) => {
      const values = split.names.map((_, i) => i).filter((i) => split.labels[i] === label && mask[i]).map(f);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const jaw = (i: number) => targets[i * K + col('jawOpen')];
    const smile = (i: number) => (targets[i * K + col('mouthSmileLeft')] + targets[i * K + col('mouthSmileRight')]) / 2;
    expect(meanOf(2, jaw)).toBeGreaterThan(meanOf(0, jaw) + 0.15);
    expect(meanOf(1, smile)).toBeGreaterThan(meanOf(0, smile) + 0.15);
  });

  it('aligns rows to the names asked for, in their order', async () => {
    const { header, data } = await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir });
    const names = [header.names[5], header.names[0], header.names[63]];
    const { targets, mask } = loadMouthTargets(dataDir, 'FER2013Valid', names, { teacher: 'landmark68', cacheDir });
    [5, 0, 63].forEach((src, j) => {
      expect(mask[j]).toBe(data.mask[src]);
      expect(Array.from(targets.subarray(j * K, (j + 1) * K))).toEqual(Array.from(data.targets.subarray(src * K, (src + 1) * K)));
    });
    expect(() => loadMouthTargets(dataDir, 'FER2013Valid', ['fer9999999.png'], { teacher: 'landmark68', cacheDir })).toThrow(/not in the mouth targets/);
  });

  it('refuses a cache from another teacher or other formulas, and recomputes it with a message', async () => {
    expect(() => loadMouthTargets(dataDir, 'FER2013Valid', [], { teacher: 'facemesh', cacheDir })).toThrow(/come from teacher landmark68.*--teacher facemesh/);
    const { header } = await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir });
    const file = join(cacheDir, `FER2013Valid-${header.contentHash}.json`);
    writeFileSync(file, JSON.stringify({ ...header, formulaFingerprint: 'older', fingerprint: 'older' }));
    expect(() => loadMouthTargets(dataDir, 'FER2013Valid', [], { teacher: 'landmark68', cacheDir })).toThrow(/other formulas.*npm run mouth-targets/);
    const log: string[] = [];
    const redone = await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir, log: (m) => log.push(m) });
    expect(redone.cached).toBe(false);
    expect(log.join('\n')).toMatch(/formulas older.*recomputing/);
    expect(redone.header.fingerprint).toBe(header.fingerprint);
  });

  it('finds no cache for a split whose images changed, and says which command makes one', () => {
    const changed = makeDataDir([...rows.neutral.slice(1), ...rows.happiness, ...rows.surprise]);
    expect(() => loadMouthTargets(changed, 'FER2013Valid', [], { teacher: 'landmark68', cacheDir })).toThrow(MouthCacheError);
    expect(() => loadMouthTargets(changed, 'FER2013Valid', [], { teacher: 'landmark68', cacheDir })).toThrow(/no mouth targets.*npm run mouth-targets -- --data .* --split FER2013Valid/);
  });
});
