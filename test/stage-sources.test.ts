/** Where each stage's starting weights, teacher and frozen students come from (withDefaultSources), its defaults, and what a resume may change. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, replicateRunName, replicateSeed, resumedConfig, withDefaultSources, withStartArchitecture } from '../tools/train/config.js';
import { modelArchitecture, readConfig } from '../tools/train/run-dir.js';

const sources = (stage: Parameters<typeof defaultConfig>[0], runs: string) => {
  const c = withDefaultSources(defaultConfig(stage, 'data'), runs, 'models');
  return { initFrom: c.initFrom, teacher: c.teacher, concat: c.concat };
};

describe('stage sources', () => {
  it('fall back to the committed models when this machine has no runs', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    expect(sources('teacher', runs)).toEqual({ initFrom: null, teacher: null, concat: { kd: null, triplet: null } });
    // Every student starts from the teacher; only kd and triplet are taught by it.
    expect(sources('baseline', runs)).toEqual({ initFrom: 'models/teacher', teacher: null, concat: { kd: null, triplet: null } });
    expect(sources('kd', runs)).toMatchObject({ initFrom: 'models/teacher', teacher: 'models/teacher' });
    expect(sources('concat', runs).concat).toEqual({ kd: 'models/student-kd', triplet: 'models/student-triplet' });
  });

  it('prefer a run folder that holds a best model', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    mkdirSync(join(runs, 'teacher', 'best'), { recursive: true });
    writeFileSync(join(runs, 'teacher', 'best', 'model.json'), '{}');
    mkdirSync(join(runs, 'kd'), { recursive: true }); // started, but no best model yet
    expect(sources('triplet', runs)).toMatchObject({ initFrom: join(runs, 'teacher'), teacher: join(runs, 'teacher') });
    expect(sources('concat', runs).concat).toEqual({ kd: 'models/student-kd', triplet: 'models/student-triplet' });
  });
});

describe('student architecture', () => {
  it('is the architecture of the network a run starts from, the concat its students\'', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    const architecture = (stage: Parameters<typeof defaultConfig>[0], change: Partial<ReturnType<typeof defaultConfig>> = {}) =>
      withStartArchitecture({ ...withDefaultSources(defaultConfig(stage, 'data'), runs, 'models'), ...change }).architecture;
    const conv = (filters: number) => ({ class_name: 'Conv2D', name: 'block1_conv1', config: { name: 'block1_conv1', filters } });
    // A run whose first convolution is 16 wide holds the compact network, 32 wide the VGG-style one.
    const writeRun = (run: string, filters: number) => {
      mkdirSync(join(runs, run, 'best'), { recursive: true });
      writeFileSync(join(runs, run, 'best', 'model.json'), JSON.stringify({ modelTopology: { class_name: 'Model', config: { layers: [{ class_name: 'InputLayer', name: 'face', config: {} }, conv(filters)] } } }));
    };
    // The concat takes its kd student's, whichever network that is.
    writeRun('kd', 16);
    expect(architecture('concat')).toBe('student');
    writeRun('kd', 32);
    expect(architecture('concat')).toBe('teacher');
    // A student takes its teacher run's.
    writeRun('teacher', 32);
    for (const stage of ['baseline', 'kd', 'triplet'] as const) expect(architecture(stage)).toBe('teacher');
    // A teacher from scratch, or a student told --init none, keeps the default.
    expect(architecture('teacher')).toBe('student');
    expect(architecture('kd', { initFrom: null })).toBe('student');
    // Inside a flip-averaged export too: its network is one nested layer of the wrapper's graph.
    const flipped = join(runs, 'flipped');
    mkdirSync(flipped, { recursive: true });
    const nested = { class_name: 'Functional', name: 'network', config: { name: 'network', layers: [{ class_name: 'InputLayer', name: 'face', config: {} }, conv(32)] } };
    writeFileSync(join(flipped, 'model.json'), JSON.stringify({ modelTopology: { class_name: 'Model', config: { layers: [{ class_name: 'InputLayer', name: 'face', config: {} }, nested] } } }));
    expect(modelArchitecture(flipped)).toBe('teacher');
    // A width no architecture has: the default stays.
    writeFileSync(join(runs, 'teacher', 'best', 'model.json'), JSON.stringify({ modelTopology: { config: { layers: [conv(24)] } } }));
    expect(architecture('kd')).toBe('student');
  });
});

describe('replicates', () => {
  it('share the teacher, join their own students in the concat, and never fall back to the committed models', () => {
    const runs = mkdtempSync(join(tmpdir(), 'halfface-runs-'));
    for (const run of ['teacher', 'kd-r2']) {
      mkdirSync(join(runs, run, 'best'), { recursive: true });
      writeFileSync(join(runs, run, 'best', 'model.json'), '{}');
    }
    const r2 = (stage: Parameters<typeof defaultConfig>[0]) => withDefaultSources(defaultConfig(stage, 'data'), runs, 'models', 2);
    expect(r2('kd')).toMatchObject({ initFrom: join(runs, 'teacher'), teacher: join(runs, 'teacher') });
    // triplet-r2 has not trained yet: its run folder, not replicate 1's committed model.
    expect(r2('concat').concat).toEqual({ kd: join(runs, 'kd-r2'), triplet: join(runs, 'triplet-r2') });
    expect(withDefaultSources(defaultConfig('concat', 'data'), runs, 'models', 1).concat).toEqual({ kd: 'models/student-kd', triplet: 'models/student-triplet' });
  });

  it('train in their own folders on seeds no other run of the pipeline uses', () => {
    expect(['teacher', 'kd', 'concat'].map((s) => replicateRunName(s as 'kd', 1))).toEqual(['teacher', 'kd', 'concat']);
    expect(['teacher', 'kd', 'concat'].map((s) => replicateRunName(s as 'kd', 3))).toEqual(['teacher', 'kd-r3', 'concat-r3']);
    const stages = ['baseline', 'kd', 'triplet', 'concat'] as const;
    const seeds = (r: number) => stages.map((s) => replicateSeed(s, r, defaultConfig(s, 'data').seed));
    expect(seeds(1)).toEqual(stages.map((s) => defaultConfig(s, 'data').seed));
    for (const r of [1, 2, 3]) expect(seeds(r)[1]).not.toBe(seeds(r)[2]); // kd and triplet differ within a replicate
    const used = [1, 2, 3].map((r) => new Set(seeds(r)));
    for (const [i, a] of used.entries()) for (const b of used.slice(i + 1)) expect([...a].filter((x) => b.has(x))).toEqual([]);
    expect(replicateSeed('teacher', 3, 1)).toBe(1);
  });
});

describe('stage defaults', () => {
  it('give the three students one schedule, and kd and triplet different seeds', () => {
    const [baseline, kd, triplet] = (['baseline', 'kd', 'triplet'] as const).map((s) => defaultConfig(s, 'data'));
    for (const c of [kd, triplet]) expect({ epochs: c.epochs, learningRate: c.learningRate, occlusion: c.occlusion }).toEqual({ epochs: baseline.epochs, learningRate: baseline.learningRate, occlusion: 'lower' });
    expect(kd.seed).not.toBe(triplet.seed);
    expect(triplet.batchOrder).toBe('stratified');
    expect(defaultConfig('teacher', 'data').occlusion).toBe('none');
  });

  it('a run saved before batch orders existed resumes shuffled, as it trained', () => {
    const run = mkdtempSync(join(tmpdir(), 'halfface-old-run-'));
    const { batchOrder: _, ...old } = defaultConfig('triplet', 'data');
    writeFileSync(join(run, 'config.json'), JSON.stringify(old));
    expect(readConfig(run).batchOrder).toBe('shuffled');
  });

  it('a resumed run keeps what it learns, may train longer or elsewhere, and refuses another stage', () => {
    const saved = { ...defaultConfig('kd', 'data'), kd: { temperature: 2, alpha: 0.5 }, threads: 1, backend: 'wasm' };
    const resumed = resumedConfig(saved, { epochs: 6, threads: 0, backend: 'tensorflow-gpu' });
    expect(resumed).toEqual({ ...saved, epochs: 6, threads: 0, backend: 'tensorflow-gpu' });
    expect(resumedConfig(saved, { stage: 'kd' })).toEqual(saved);
    expect(() => resumedConfig(saved, { stage: 'triplet' })).toThrow(/is a kd run, not triplet/);
  });
});
