/** Export of a trained model to the browser format, with the facts a model card needs. */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forwardFlops, inferenceGraph } from './architectures.js';
import { fileSaveHandler, loadModelFromDir, WEIGHTS_FILE } from './file-io.js';

export interface ExportInfo { source: string; bytes: number; flops: number; parameters: number; sha256: string }

export function fileFacts(dir: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of ['model.json', WEIGHTS_FILE]) {
    hash.update(readFileSync(join(dir, f)));
    bytes += statSync(join(dir, f)).size;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function exportModel(sourceDir: string, outDir: string): Promise<ExportInfo> {
  const model = await loadModelFromDir(sourceDir);
  const graph = model.outputs.length > 1 ? inferenceGraph(model) : model;
  await graph.save(fileSaveHandler(outDir));
  const info: ExportInfo = { source: sourceDir, ...fileFacts(outDir), flops: forwardFlops(model), parameters: model.countParams() };
  writeFileSync(join(outDir, 'export.json'), JSON.stringify(info, null, 2));
  model.dispose();
  return info;
}
