/** Study database → files: the CSV tables for all sessions, and one JSON recording per session. */
import { createHash } from 'node:crypto';
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

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;
const escapeChar = (c: string) => `%${c.codePointAt(0)!.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Session id → JSON file name, one file per session on any file system. Characters outside
 * [A-Za-z0-9_.-] (':' is not allowed on Windows), a leading '.' (a hidden file, or '..') and the
 * first letter of a Windows device name (CON, NUL…) are written as %XX; '%' never occurs in ids, so
 * this is one-to-one. Names equal but for case (Ab, aB: one file on Windows and macOS) get '~' and
 * a hash of the id.
 */
export function sessionFileNames(sessionIds: readonly string[]): Map<string, string> {
  const stems = sessionIds.map((id) => {
    let stem = id.replace(/[^A-Za-z0-9_.-]/g, escapeChar).replace(/^\./, escapeChar);
    if (WINDOWS_DEVICE.test(stem)) stem = escapeChar(stem[0]) + stem.slice(1);
    return stem;
  });
  const folded = new Map<string, number>();
  for (const stem of stems) folded.set(stem.toLowerCase(), (folded.get(stem.toLowerCase()) ?? 0) + 1);
  return new Map(sessionIds.map((id, i) => {
    const clash = folded.get(stems[i].toLowerCase())! > 1;
    const stem = clash ? `${stems[i]}~${createHash('sha256').update(id).digest('hex').slice(0, 12)}` : stems[i];
    return [id, `${stem}.json`];
  }));
}

export function exportStudy(store: StudyStore, outDir: string, studyId?: string): ExportSummary {
  // One snapshot: read statement by statement, an export taken during uploads held chunks' markers without their samples.
  const recordings: Recording[] = store.snapshot(() => store.sessionIds(studyId).map((id) => store.recording(id)));
  mkdirSync(join(outDir, 'json'), { recursive: true });
  const files: string[] = [];
  for (const [name, text] of Object.entries(exportCsvFiles(recordings))) {
    const file = join(outDir, name);
    writeFileSync(file, text);
    files.push(file);
  }
  const names = sessionFileNames(recordings.map((r) => r.session.sessionId));
  for (const r of recordings) {
    const file = join(outDir, 'json', names.get(r.session.sessionId)!);
    writeFileSync(file, recordingToJson(r));
    files.push(file);
  }
  return { sessions: recordings.length, samples: recordings.reduce((n, r) => n + r.samples.length, 0), files };
}
