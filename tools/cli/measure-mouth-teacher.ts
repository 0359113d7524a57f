/**
 * npm run mouth-targets's yardstick (tsx tools/cli/measure-mouth-teacher.ts --teacher T [--limit N]):
 * how well a landmark teacher reads the mouth on FER whole faces, measured as docs/mouth.md reports it:
 * AUC of mouth opening for surprise vs neutral, of width for happiness vs neutral, of corner lift
 * for happiness vs neutral (and of corner drop for sadness), mirror consistency (Pearson r between
 * a face's measures and its mirror's, and between its 13 target weights and its mirror's), the share of faces screened out, and ms per face.
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXPRESSIONS } from '../../src/core/labels.js';
import { MOUTH_BLENDSHAPES, implausibility, mouthBlendshapes, mouthMeasures, type MouthMeasures } from '../../src/core/mouth-blendshapes.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, loadSplit, resolveDataDir } from '../data/ferplus.js';
import { runCli } from './run-cli.js';
import { auc, pearson } from '../mouth/stats.js';
import { MIN_FACE_SCORE } from '../mouth/targets.js';
import { TEACHER_CROPS, loadTeacher, parseTeacher } from '../mouth/teachers.js';

const program = new Command()
  .option('--teacher <name>', 'facemesh | landmark68', 'facemesh')
  .option('--data <dir>', 'FER+ folder')
  .option('--split <name>', 'split', 'FER2013Valid')
  .option('--padding <fraction>', 'mirrored border (default: the teacher\'s)', Number)
  .option('--limit <n>', 'first n faces only', Number)
  .option('--json <file>', 'write the numbers here');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const name = parseTeacher(o.teacher);
  await selectBackend('wasm', 1);
  const data = loadSplit(resolveDataDir(o.data), parseSplit(o.split), 'majority');
  const crop = { ...TEACHER_CROPS[name], ...(o.padding !== undefined ? { padding: o.padding } : {}) };
  const teacher = await loadTeacher(name, crop);
  const n = Math.min(o.limit ?? Infinity, data.names.length);
  const measures: (MouthMeasures | null)[] = [];
  const mirrored: (MouthMeasures | null)[] = [];
  const reasons: Record<string, number> = {};
  const started = performance.now();
  const place = (score: number | null, m: MouthMeasures): string | null => (score !== null && !(score >= MIN_FACE_SCORE) ? 'face score' : implausibility(m));
  for (let s = 0; s < n; s += 32) {
    const c = Math.min(32, n - s);
    const [a, b] = [await teacher.locate(data.pixels, s, c), await teacher.locate(data.pixels, s, c, true)];
    for (let i = 0; i < c; i++) {
      const ma = mouthMeasures(a[i].keypoints);
      const mb = mouthMeasures(b[i].keypoints);
      const why = place(a[i].score, ma);
      if (why) reasons[why] = (reasons[why] ?? 0) + 1;
      measures.push(why ? null : ma);
      mirrored.push(place(b[i].score, mb) ? null : mb);
    }
  }
  const msPerFace = (performance.now() - started) / (2 * n);
  teacher.dispose();
  const of = (label: number, f: (m: MouthMeasures) => number) => measures.flatMap((m, i) => (m && data.labels[i] === label ? [f(m)] : []));
  const [NEU, HAP, SUR, SAD] = ['neutral', 'happiness', 'surprise', 'sadness'].map((c) => EXPRESSIONS.indexOf(c as never));
  const lift = (m: MouthMeasures) => (m.liftLeft + m.liftRight) / 2;
  const both = measures.map((m, i) => (m && mirrored[i] ? i : -1)).filter((i) => i >= 0);
  const mirror = (f: (m: MouthMeasures) => number) => pearson(both.map((i) => f(measures[i]!)), both.map((i) => f(mirrored[i]!)));
  const screened = (label: number | null) => {
    const idx = measures.map((_, i) => i).filter((i) => label === null || data.labels[i] === label);
    return idx.filter((i) => !measures[i]).length / idx.length;
  };
  const result = {
    teacher: name, crop, split: o.split, n, msPerFace,
    auc: {
      openingSurpriseVsNeutral: auc(of(SUR, (m) => m.opening), of(NEU, (m) => m.opening)),
      widthHappinessVsNeutral: auc(of(HAP, (m) => m.width), of(NEU, (m) => m.width)),
      liftHappinessVsNeutral: auc(of(HAP, lift), of(NEU, lift)),
      dropSadnessVsNeutral: auc(of(SAD, (m) => -lift(m)), of(NEU, (m) => -lift(m))),
    },
    mirrorR: {
      opening: mirror((m) => m.opening), width: mirror((m) => m.width), lift: mirror(lift),
      liftLeft: mirror((m) => m.liftLeft), shift: mirror((m) => m.shift), upperLip: mirror((m) => m.upperLip),
    },
    // Each target weight against the same weight read from the mirror image (its landmarks are mapped
    // back and its sides swapped by the teacher, as for the measures above): the teacher's own
    // test-retest reliability, which bounds the r any student can reach against it.
    blendshapeMirrorR: Object.fromEntries(MOUTH_BLENDSHAPES.map((name) => [name, pearson(
      both.map((i) => mouthBlendshapes(measures[i]!)[name]), both.map((i) => mouthBlendshapes(mirrored[i]!)[name]),
    )])),
    screened: { all: screened(null), ...Object.fromEntries(EXPRESSIONS.map((e, c) => [e, screened(c)])) },
    reasons,
  };
  console.log(JSON.stringify(result, (_, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v), 2));
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, JSON.stringify(result, null, 2));
  }
});
