/** Training flags and config.json go through one check per config key (tools/train/config-check.ts). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STRONG_AUGMENT } from '../tools/data/augment.js';
import { checkConfig, ConfigError } from '../tools/train/config-check.js';
import { defaultConfig, STAGES } from '../tools/train/config.js';
import { applyTrainFlags, checkFor, parseFlagValue, TRAIN_FLAGS, trainFlag } from '../tools/train/flags.js';
import { readConfig, writeConfig } from '../tools/train/run-dir.js';

const parse = (flag: string, raw: string) => parseFlagValue(trainFlag(flag), raw);

describe('train flags', () => {
  it('every flag names a config key with a check', () => {
    for (const f of TRAIN_FLAGS) expect(typeof checkFor(f.path), f.flag).toBe('function');
    expect(new Set(TRAIN_FLAGS.map((f) => f.flag)).size).toBe(TRAIN_FLAGS.length);
  });

  it('read numbers strictly and refuse what does not fit, naming the flag', () => {
    expect(parse('--epochs', '3')).toBe(3);
    expect(() => parse('--epochs', 'ten')).toThrow('--epochs: "ten" is not a whole number ≥ 1');
    expect(() => parse('--epochs', '0')).toThrow(/--epochs: 0 is not a whole number ≥ 1/);
    expect(() => parse('--epochs', '2.5')).toThrow(/--epochs: 2.5 is not/);
    expect(parse('--seed', '0')).toBe(0);
    expect(() => parse('--seed', 'abc')).toThrow('--seed: "abc" is not a whole number from 0 to 4294967295');
    expect(() => parse('--seed', '')).toThrow(/--seed: "" is not/);
    expect(() => parse('--seed', '0x10')).toThrow(/--seed: "0x10" is not/);
    expect(parse('--alpha', '0.5')).toBe(0.5);
    expect(() => parse('--alpha', '0,5')).toThrow('--alpha: "0,5" is not a number from 0 to 1');
    expect(() => parse('--alpha', '1.5')).toThrow(/--alpha: 1.5 is not a number from 0 to 1/);
    expect(parse('--lr', '3e-4')).toBe(3e-4);
    expect(() => parse('--lr', '-1')).toThrow(/--lr: -1 is not a number > 0/);
    expect(parse('--patience', '0')).toBe(0);
    expect(parse('--balance-loss', '0.5')).toBe(0.5);
    expect(() => parse('--balance-loss', '3')).toThrow(/--balance-loss: 3 is not a number from 0/);
  });

  it('read names from their lists, presets and "none"', () => {
    expect(parse('--augment', 'strong')).toEqual(STRONG_AUGMENT);
    expect(() => parse('--augment', 'huge')).toThrow('--augment: "huge" is not one of default, strong, none');
    expect(parse('--init', 'none')).toBeNull();
    expect(parse('--init', 'runs/x')).toBe('runs/x');
    expect(parse('--label-mode', 'probability')).toBe('probability');
    expect(() => parse('--occlusion', 'side')).toThrow('--occlusion: "side" is not one of none, lower, upper');
    expect(() => parse('--architecture', 'vgg')).toThrow(/--architecture: "vgg" is not one of teacher, student/);
  });

  it('set their keys on a copy, nested fields included; concat students only on a concat run', () => {
    const base = defaultConfig('kd', '/data');
    const set = applyTrainFlags(base, { alpha: '0.3', seed: '9', kdStudent: 'runs/other', augment: 'strong', initFrom: 'x', teacherViews: '8' });
    expect(set.kd).toEqual({ temperature: 2, alpha: 0.3 });
    expect(set.seed).toBe(9);
    expect(set.teacherViews).toBe(8);
    expect(applyTrainFlags(defaultConfig('teacher', '/data'), { teacherViews: '8' }).teacherViews).toBe(0);
    expect(() => applyTrainFlags(base, { teacherViews: 'eight' })).toThrow('--teacher-views: "eight" is not a whole number ≥ 0');
    expect(set.augment).toEqual(STRONG_AUGMENT);
    expect(set.concat).toEqual(base.concat);
    expect(base.kd.alpha).toBe(0.5);
    expect(applyTrainFlags(defaultConfig('concat', '/data'), { kdStudent: 'runs/other' }).concat.kd).toBe('runs/other');
    // --init's attribute is "init": initFrom above is not a flag and changes nothing
    expect(set.initFrom).toBe(base.initFrom);
    expect(applyTrainFlags(base, { init: 'none' }).initFrom).toBeNull();
  });

  it('the CLI refuses a bad value before it reads any data', () => {
    const run = (...args: string[]) => {
      try {
        execFileSync('npx', ['tsx', 'tools/cli/train.ts', '--stage', 'baseline', '--out', join(tmpdir(), 'halfface-never'), ...args], { encoding: 'utf8', stdio: 'pipe' });
        return 'exited 0';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    expect(run('--epochs', 'ten')).toContain('--epochs: "ten" is not a whole number ≥ 1');
    expect(run('--threads', 'two')).toContain('--threads: "two" is not a whole number ≥ 0');
  });
});

describe('config.json', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'halfface-config-'));

  it('every default config passes and reads back unchanged', () => {
    for (const stage of STAGES) {
      const config = defaultConfig(stage, '/data');
      expect(checkConfig(JSON.parse(JSON.stringify(config)), 'x')).toEqual(config);
    }
  });

  it('reads runs saved before newer keys existed as they trained', () => {
    const { batchOrder: _, balanceLoss: __, ...old } = defaultConfig('baseline', '/data');
    const augment = { ...old.augment };
    delete augment.erasing;
    expect(checkConfig({ ...old, augment }, 'x')).toMatchObject({ batchOrder: 'shuffled', augment, balanceLoss: 0 });
  });

  it('one set of fixed views for every stage and seed; runs from before the view seed keep their seed\'s views', () => {
    const viewSeeds = new Set((['baseline', 'kd', 'triplet'] as const).map((s) => defaultConfig(s, '/data').viewSeed));
    expect(viewSeeds.size).toBe(1);
    expect(defaultConfig('kd', '/data').seed).not.toBe(defaultConfig('kd', '/data').viewSeed);
    const { viewSeed: _, ...old } = { ...defaultConfig('kd', '/data'), seed: 12 };
    expect(checkConfig(old, 'x').viewSeed).toBe(12);
    expect(applyTrainFlags(defaultConfig('kd', '/data'), { viewSeed: '7' }).viewSeed).toBe(7);
  });

  it('is refused when a value or key is wrong, naming the file and the key', () => {
    const run = dir();
    writeConfig(run, defaultConfig('kd', '/data'));
    expect(readConfig(run).stage).toBe('kd');
    const bad = (patch: Record<string, unknown>) => {
      writeFileSync(join(run, 'config.json'), JSON.stringify({ ...defaultConfig('kd', '/data'), ...patch }));
      return () => readConfig(run);
    };
    expect(bad({ seed: 'abc' })).toThrow(`${join(run, 'config.json')}: config.seed: "abc" is not a whole number from 0 to 4294967295`);
    expect(bad({ kd: { temperature: 2, alpha: '0,5' } })).toThrow(/config\.kd\.alpha: "0,5" is not a number from 0 to 1/);
    expect(bad({ epochs: null })).toThrow(/config\.epochs: null is not a whole number ≥ 1/);
    expect(bad({ stage: 'student' })).toThrow(/config\.stage: "student" is not one of teacher, baseline, kd, triplet, concat/);
    expect(bad({ learningRat: 1 })).toThrow(/config\.learningRat: unknown key/);
    expect(bad({ augment: { flip: 'yes' } })).toThrow(ConfigError);
    writeFileSync(join(run, 'config.json'), '{"stage": "kd",');
    expect(() => readConfig(run)).toThrow(/config\.json is not valid JSON/);
  });
});
