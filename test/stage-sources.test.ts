/** Where each stage's starting weights, teacher and frozen students come from (withDefaultSources). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, withDefaultSources } from '../tools/train/config.js';

const sources = (stage: Parameters<typeof defaultConfig>[0], runs: string) => {
  const c = withDefaultSources(defaultConfig(stage, 'data'), runs, 'models');
  return { initFrom: c.initFrom, teacher: c.teacher, concat: c.concat };
};

describe('stage sources', () => {
  it('fall back to the committed models when this machine has no runs', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    expect(sources('baseline', runs)).toEqual({ initFrom: null, teacher: null, concat: { kd: null, triplet: null } });
    expect(sources('teacher', runs).initFrom).toBe('models/student-baseline');
    expect(sources('kd', runs)).toMatchObject({ initFrom: 'models/student-baseline', teacher: 'models/teacher' });
    expect(sources('concat', runs).concat).toEqual({ kd: 'models/student-kd', triplet: 'models/student-triplet' });
  });

  it('prefer a run folder that holds a best model', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    mkdirSync(join(runs, 'teacher', 'best'), { recursive: true });
    writeFileSync(join(runs, 'teacher', 'best', 'model.json'), '{}');
    mkdirSync(join(runs, 'baseline'), { recursive: true }); // started, but no best model yet
    expect(sources('triplet', runs)).toMatchObject({ initFrom: 'models/student-baseline', teacher: join(runs, 'teacher') });
  });
});
