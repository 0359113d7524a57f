/** Study database → files: the CSV tables for all sessions, and one JSON recording per session. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportCsvFiles, recordingToJson } from '../../src/research/export.js';
import type { Recording } from '../../src/research/types.js';
import type { StudyStore } from './store.js';

export interface ExportSummary {
  sessions: number;
  samples: number;
  files: string[];
}

export function exportStudy(store: StudyStore, outDir: string, studyId?: string): ExportSummary {
  const recordings: Recording[] = store.sessionIds(studyId).map((id) => store.recording(id));
  mkdirSync(join(outDir, 'json'), { recursive: true });
  const files: string[] = [];
  for (const [name, text] of Object.entries(exportCsvFiles(recordings))) {
    const file = join(outDir, name);
    writeFileSync(file, text);
    files.push(file);
  }
  for (const r of recordings) {
    // sessionId is schema-checked to [A-Za-z0-9_.:-]; ':' is not allowed in Windows file names.
    const file = join(outDir, 'json', `${r.session.sessionId.replaceAll(':', '_')}.json`);
    writeFileSync(file, recordingToJson(r));
    files.push(file);
  }
  return { sessions: recordings.length, samples: recordings.reduce((n, r) => n + r.samples.length, 0), files };
}
