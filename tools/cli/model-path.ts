import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A run folder means its best model; a model folder is taken as it is. */
export function resolveModelDir(path: string): string {
  if (existsSync(join(path, 'model.json'))) return path;
  if (existsSync(join(path, 'best', 'model.json'))) return join(path, 'best');
  if (existsSync(join(path, 'config.json'))) throw new Error(`run ${path} has no best model yet: it has not finished an epoch`);
  throw new Error(`no model at ${path}: expected a folder with model.json, or a run folder with best/model.json`);
}
