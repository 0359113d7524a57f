/**
 * `npm run pipeline` end to end on real FER+ faces, shrunk to minutes: the settings it passes to
 * every run, replicates on their own seeds and folders, the exported model with its card, and bad
 * flags refused before anything trains.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../tools/train/config.js';
import { readConfig, readEpochs } from '../tools/train/run-dir.js';
import { DATA_DIR } from './helpers/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const runs = join(tmp, 'runs');
const models = join(tmp, 'models');

function cli(args: string[]): { out: string; err: string; code: number } {
  try {
    const out = execFileSync('npx', ['tsx', 'tools/cli/pipeline.ts', '--data', DATA_DIR, '--backend', 'wasm', '--runs', runs, '--models', models, ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { out, err: '', code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; status: number };
    return { out: x.stdout, err: x.stderr, code: x.status };
  }
}

describe('npm run pipeline', () => {
  let run: { out: string; err: string; code: number };

  beforeAll(() => {
    // The committed teacher stands in for a trained one: the students start from it.
    cpSync('models/teacher', join(models, 'teacher'), { recursive: true });
    // The compact network keeps this quick whatever models/teacher is; float16 keeps it in the headset's budget.
    run = cli(['--stages', 'baseline', '--replicates', '2', '--architecture', 'student', '--label-mode', 'probability', '--epochs', '1', '--limit-train', '256', '--limit-valid', '128', '--quantize', 'float16']);
  });

  it('trains every replicate in its own folder, on its own seed, with the settings given', () => {
    expect(run.code, run.err).toBe(0);
    const seed = defaultConfig('baseline', DATA_DIR).seed;
    for (const [dir, expected] of [['baseline', seed], ['baseline-r2', seed + 10]] as const) {
      const config = readConfig(join(runs, dir));
      expect(config).toMatchObject({ stage: 'baseline', seed: expected, architecture: 'student', labelMode: 'probability', epochs: 1, limitTrain: 256, limitValid: 128, initFrom: join(models, 'teacher') });
      expect(readEpochs(join(runs, dir))).toHaveLength(1);
    }
    expect(existsSync(join(runs, 'baseline-r3'))).toBe(false);
  });

  it('exports replicate 1 with its card and ships it; the others stay runs, named in the report command', () => {
    expect(existsSync(join(models, 'student-baseline', 'model.json'))).toBe(true);
    expect(existsSync(join(models, 'student-baseline-r2'))).toBe(false);
    const card = readFileSync(join(models, 'student-baseline', 'README.md'), 'utf8');
    expect(card).toContain('"labelMode": "probability"');
    // Trained on the vote distribution, scored on the majority protocol like every card: 3191 Valid faces.
    expect(card).toMatch(/\| FER2013Valid \| lower \| 3191 \| \d+\.\d\d% \|/);
    expect(existsSync(join(models, 'halfface', 'model.json'))).toBe(true);
    // Exported before the next replicate began: a machine lost mid-campaign leaves it to commit.
    expect(statSync(join(models, 'student-baseline', 'model.json')).mtimeMs).toBeLessThan(statSync(join(runs, 'baseline-r2', 'config.json')).mtimeMs);
    expect(run.out).toContain(`npm run report -- --models ${join(models, 'student-baseline')} --replicate ${join(runs, 'baseline-r2')}`);
  });

  it('resumes instead of training again, and never ships a less accurate student, nor one without the mouth head', () => {
    const before = readFileSync(join(runs, 'baseline-r2', 'metrics.jsonl'), 'utf8');
    const again = () => cli(['--stages', 'baseline', '--replicates', '2', '--epochs', '1', '--limit-train', '256', '--limit-valid', '128', '--quantize', 'float16']);
    // The committed headset model: far more accurate than a student of 256 faces, and with the mouth head.
    rmSync(join(models, 'halfface'), { recursive: true });
    cpSync('models/halfface', join(models, 'halfface'), { recursive: true });
    const shippedBefore = readFileSync(join(models, 'halfface', 'weights.bin'));
    const better = again();
    expect(better.code, better.err).toBe(0);
    expect(readFileSync(join(runs, 'baseline-r2', 'metrics.jsonl'), 'utf8')).toBe(before);
    expect(better.out).toMatch(/models\/halfface stays as it is: it scores \d+\.\d\d% on FER2013Valid lower, more than the best student of this run \(student-baseline, \d+\.\d\d%\)/);
    expect(readFileSync(join(models, 'halfface', 'weights.bin')).equals(shippedBefore)).toBe(true);
    // The same model carded as hardly accurate: the mouth head alone keeps it.
    const cardPath = join(models, 'halfface', 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8')) as { evaluations: { accuracy: number }[] };
    writeFileSync(cardPath, JSON.stringify({ ...card, evaluations: card.evaluations.map((e) => ({ ...e, accuracy: 0.01 })) }));
    const mouth = again();
    expect(mouth.code, mouth.err).toBe(0);
    expect(mouth.out).toContain('models/halfface stays as it is: it has the mouth head');
    expect(readFileSync(join(models, 'halfface', 'weights.bin')).equals(shippedBefore)).toBe(true);
  });

  it('refuses bad flags before it trains', () => {
    for (const [flag, value, message] of [['--replicates', '0', /--replicates must be a whole number >= 1/], ['--label-mode', 'votes', /--label-mode/], ['--architecture', 'huge', /--architecture/]] as const) {
      const r = cli(['--stages', 'kd', flag, value, '--runs', join(tmp, 'never')]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(existsSync(join(tmp, 'never'))).toBe(false);
    }
  });
});
