/**
 * The browser-only part of research recording: the IndexedDB upload queue (survives reloads,
 * crashes and offline periods) and file downloads. Everything else in src/research is pure.
 */
import { exportCsvFiles, recordingToJson } from './export.js';
import type { Recording } from './types.js';
import type { QueuedUpload, UploadQueue } from './uploader.js';

const STORE = 'uploads';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The upload queue in IndexedDB, keyed by uploadId. A put is durable once its promise resolves. */
export class IndexedDbUploadQueue implements UploadQueue {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name = 'halfface-research'): Promise<IndexedDbUploadQueue> {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available in this browser (private mode?): recordings cannot be queued');
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE, { keyPath: 'uploadId' });
    };
    return new IndexedDbUploadQueue(await request(open));
  }

  async put(item: QueuedUpload): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite', { durability: 'strict' });
    tx.objectStore(STORE).put(item);
    await done(tx);
  }

  async list(): Promise<QueuedUpload[]> {
    const tx = this.db.transaction(STORE, 'readonly');
    const items = await request(tx.objectStore(STORE).getAll() as IDBRequest<QueuedUpload[]>);
    return items.sort((a, b) => a.queuedAt - b.queuedAt || a.chunk.seq - b.chunk.seq);
  }

  async remove(uploadId: string): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite', { durability: 'strict' });
    tx.objectStore(STORE).delete(uploadId);
    await done(tx);
  }

  close(): void {
    this.db.close();
  }
}

/** Saves text as a file through the browser's download. */
export function downloadText(fileName: string, text: string, mime = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** File-name-safe stem for a recording: participant_condition_start. */
export function recordingFileStem(recording: Recording): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60);
  return `${safe(recording.session.participantId)}_${safe(recording.session.condition)}_${recording.session.startedAt.replace(/[:.]/g, '-')}`;
}

/** Downloads a recording as one JSON file, or as its CSV tables (one file each). */
export function downloadRecording(recording: Recording, format: 'json' | 'csv'): void {
  const stem = recordingFileStem(recording);
  if (format === 'json') {
    downloadText(`${stem}.json`, recordingToJson(recording), 'application/json');
    return;
  }
  for (const [name, text] of Object.entries(exportCsvFiles([recording]))) downloadText(`${stem}_${name}`, text, 'text/csv');
}
