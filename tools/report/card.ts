/**
 * Model cards: every number in them comes from evaluateModelDir (the code behind `npm run eval`)
 * run on the exported files themselves, so the card always matches the committed model.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluationReport } from '../eval/evaluate-model.js';
import { percent, perClassTable } from '../eval/format.js';
import type { TrainConfig } from '../train/config.js';
import { epochsTrained, type EpochRecord, type Origin, type TrainState } from '../train/run-dir.js';
import type { MouthReport } from '../eval/mouth.js';
import type { ExportInfo } from '../model/export.js';
import { hiddenRows } from '../../src/core/occlusion.js';

export interface CardInput {
  name: string;
  summary: string;
  exportInfo: ExportInfo;
  evaluations: EvaluationReport[];
  /** The mouth head against the landmark teacher's targets, when the model has one. */
  mouth?: MouthReport;
  runs: { dir: string; config: TrainConfig; state: TrainState | null; epochs: EpochRecord[]; backend: string; origins: Origin[] }[];
  notes: string[];
}

/** A cropped network never sees the hidden rows, so a whole face and its visible part score the same. */
function cropNote(c: CardInput): string {
  const config = c.runs[0]?.config;
  if (!config || config.crop !== 'visible') return '';
  const [from, to] = hiddenRows(config.occlusion);
  return `; its first layer crops away rows ${from}-${to - 1}, which the headset hides, so it computes on the visible rows only and scores a whole face as its \`${config.occlusion}\` view`;
}

export function cardMarkdown(c: CardInput): string {
  const main = c.evaluations[0];
  const lines = [
    `# ${c.name}`,
    '',
    c.summary,
    '',
    '## Facts',
    '',
    '| | |',
    '|---|---|',
    `| input | 48x48 grey face, pixel/255, float32 [N,48,48,1]${main ? `; trained on \`${main.occlusion}\` occlusion` : ''}${cropNote(c)} |`,
    `| output | probabilities of neutral, happiness, surprise, sadness, anger, disgust, fear, contempt${c.mouth ? `; then ${Object.keys(c.mouth.mouth.perBlendshape).length} ARKit mouth weights in [0, 1] (output \`mouth\`)` : ''} |`,
    `| size | ${(c.exportInfo.bytes / 1e6).toFixed(2)} MB (model.json + weights.bin), weights stored as ${c.exportInfo.quantization === 'uint8' ? 'uint8 (each kernel 256 levels between its min and max; biases float16)' : c.exportInfo.quantization ?? 'float32'} |`,
    `| parameters | ${c.exportInfo.parameters.toLocaleString('en-US')} (after folding for inference) |`,
    `| folded for inference | ${c.exportInfo.folded.batchNorms} batch norms into their convolutions, ${c.exportInfo.folded.activations} ReLUs into their layers, ${c.exportInfo.folded.dropouts} dropouts removed |`,
    `| compute | ${(c.exportInfo.flops / 1e6).toFixed(1)} MFLOPs per image (multiply-adds x2, conv + dense)${c.exportInfo.flipAveraged ? '; the graph runs the network twice, on the face and on its mirror image, and averages the outputs' : ''} |`,
    ...(c.exportInfo.balance ? [`| class balance | tau ${c.exportInfo.balance.tau}: the last layer's bias shifted by -tau log(prior), the prior the taggers' FER2013Train votes (${c.exportInfo.balance.prior.map((p) => p.toFixed(3)).join(', ')}) |`] : []),
    `| SHA-256 | \`${c.exportInfo.sha256}\` (model.json then weights.bin) |`,
    '',
    '## Accuracy on FER2013Valid (majority labels)',
    '',
    'Measured on these exact files by `npm run eval` (the FER+ test split is withheld here):',
    '',
    '| split | occlusion | images | accuracy | mean per-class recall |',
    '|---|---|---:|---:|---:|',
    ...c.evaluations.map((e) => `| ${e.split} | ${e.occlusion} | ${e.n} | ${percent(e.accuracy)} | ${percent(e.meanRecall)} |`),
    '',
  ];
  if (main) lines.push(`Per-class recall (${main.occlusion} occlusion):`, '', perClassTable(main), '');
  if (c.mouth) lines.push(...mouthSection(c.mouth));
  lines.push('## Training', '');
  for (const r of c.runs) {
    const s = r.state;
    const epochs = epochsTrained(r.epochs);
    lines.push(
      `- run \`${r.dir}\`, stage **${r.config.stage}** (${r.config.architecture}, sees \`${r.config.occlusion}\`), backend ${r.backend}: ` +
      `${epochs} of ${r.config.epochs} epochs done${s?.finished ? ' (finished)' : ' (run continues with --resume)'}, ` +
      `best epoch ${s ? s.bestEpoch + 1 : '-'}${s?.bestEpoch === -1 ? ' (its start, before training)' : ''}, ${s ? (s.trainSeconds / 3600).toFixed(2) : '-'} h of training steps.`,
      ...r.origins.map((o) => `  - ${o.role}: \`${o.dir}\` as it was when the run started (SHA-256 \`${o.sha256.slice(0, 12)}\`)`),
    );
  }
  lines.push('', 'Configuration of each run (also saved as `config.json` in the run folder):', '');
  for (const r of c.runs) lines.push('```json', JSON.stringify(r.config, null, 2), '```', '');
  if (c.notes.length) lines.push('## Notes', '', ...c.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

function mouthSection(m: MouthReport): string[] {
  const r = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  return [
    `## Mouth weights on ${m.split} (${m.occlusion} occlusion)`,
    '',
    `Measured on these exact files by \`npm run eval -- --task mouth\`: Pearson r and mean absolute error against the ${m.teacher} ` +
    `teacher's targets from the whole faces of the same images (docs/mouth.md), over the ${m.n} faces it placed (${m.missing} left out).`,
    '',
    `Mean r: **${r(m.mouth.meanPearson)}**`,
    '',
    '| blendshape | r | MAE |',
    '|---|---:|---:|',
    ...Object.entries(m.mouth.perBlendshape).map(([name, s]) => `| ${name} | ${r(s.pearson)} | ${s.mae.toFixed(3)} |`),
    '',
  ];
}

export function writeCard(dir: string, c: CardInput): void {
  writeFileSync(join(dir, 'README.md'), cardMarkdown(c));
  const evaluations = c.evaluations.map(({ predictions: _p, ...rest }) => rest);
  writeFileSync(join(dir, 'card.json'), JSON.stringify({ name: c.name, export: c.exportInfo, evaluations, ...(c.mouth ? { mouth: c.mouth } : {}) }, null, 2));
}
