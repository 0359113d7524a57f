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
import type { ExportInfo } from '../model/export.js';

export interface CardInput {
  name: string;
  summary: string;
  exportInfo: ExportInfo;
  evaluations: EvaluationReport[];
  runs: { dir: string; config: TrainConfig; state: TrainState | null; epochs: EpochRecord[]; backend: string; origins: Origin[] }[];
  notes: string[];
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
    `| input | 48x48 grey face, pixel/255, float32 [N,48,48,1]${main ? `; trained on \`${main.occlusion}\` occlusion` : ''} |`,
    '| output | probabilities of neutral, happiness, surprise, sadness, anger, disgust, fear, contempt |',
    `| size | ${(c.exportInfo.bytes / 1e6).toFixed(2)} MB (model.json + weights.bin), weights stored as ${c.exportInfo.quantization ?? 'float32'} |`,
    `| parameters | ${c.exportInfo.parameters.toLocaleString('en-US')} (after folding for inference) |`,
    `| folded for inference | ${c.exportInfo.folded.batchNorms} batch norms into their convolutions, ${c.exportInfo.folded.activations} ReLUs into their layers, ${c.exportInfo.folded.dropouts} dropouts removed |`,
    `| compute | ${(c.exportInfo.flops / 1e6).toFixed(1)} MFLOPs per image (multiply-adds x2, conv + dense)${c.exportInfo.flipAveraged ? '; the graph runs the network twice, on the face and on its mirror image, and averages the outputs' : ''} |`,
    `| SHA-256 | \`${c.exportInfo.sha256}\` (model.json then weights.bin) |`,
    '',
    '## Accuracy on FER2013Valid (majority labels)',
    '',
    'Measured on these exact files by `npm run eval` (the FER+ test split is withheld here):',
    '',
    '| split | occlusion | images | accuracy |',
    '|---|---|---:|---:|',
    ...c.evaluations.map((e) => `| ${e.split} | ${e.occlusion} | ${e.n} | ${percent(e.accuracy)} |`),
    '',
  ];
  if (main) lines.push(`Per-class recall (${main.occlusion} occlusion):`, '', perClassTable(main), '');
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

export function writeCard(dir: string, c: CardInput): void {
  writeFileSync(join(dir, 'README.md'), cardMarkdown(c));
  const evaluations = c.evaluations.map(({ predictions: _p, ...rest }) => rest);
  writeFileSync(join(dir, 'card.json'), JSON.stringify({ name: c.name, export: c.exportInfo, evaluations }, null, 2));
}
