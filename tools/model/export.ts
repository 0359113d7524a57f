/** Export of a trained model to the browser format, with the facts a model card needs. */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forwardFlops, inferenceGraph } from './architectures.js';
import { fileSaveHandler, loadModelFromDir, replaceFolder, WEIGHTS_FILE } from './file-io.js';
import { foldForInference, type FoldSummary } from './fold.js';

export interface ExportInfo { source: string; bytes: number; flops: number; parameters: number; sha256: string; folded: FoldSummary }

export function fileFacts(dir: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of ['model.json', WEIGHTS_FILE]) {
    hash.update(readFileSync(join(dir, f)));
    bytes += statSync(join(dir, f)).size;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Writes the browser graph of `sourceDir` and its export.json into `outDir`, which should be new or empty. */
export async function exportModelInto(sourceDir: string, outDir: string): Promise<ExportInfo> {
  const model = await loadModelFromDir(sourceDir);
  const graph = model.outputs.length > 1 ? inferenceGraph(model) : model;
  try {
    // The browser gets the folded graph: same outputs, about half the WebGL passes.
    const { model: folded, summary } = await foldForInference(graph);
    try {
      await folded.save(fileSaveHandler(outDir));
      const info: ExportInfo = { source: sourceDir, ...fileFacts(outDir), flops: forwardFlops(model), parameters: folded.countParams(), folded: summary };
      writeFileSync(join(outDir, 'export.json'), JSON.stringify(info, null, 2));
      return info;
    } finally {
      folded.dispose();
    }
  } finally {
    model.dispose();
  }
}

/** Exports `sourceDir` to `outDir`, replacing any model there only once the new one is complete. */
export async function exportModel(sourceDir: string, outDir: string): Promise<ExportInfo> {
  return replaceFolder(outDir, (temp) => exportModelInto(sourceDir, temp));
}
