/**
 * The study database (SQLite via better-sqlite3): sessions, uploads and their rows. One upload is
 * stored in one transaction, keyed by its client-generated uploadId and by (session, seq), so a
 * retried upload is recognised and never duplicates rows, and a crash mid-upload leaves nothing
 * half-written.
 *
 * Rows keep their exact JSON (data_json) beside a few query columns, so what comes out of an
 * export is byte-for-byte what the headset recorded.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { Questionnaire, Recording, SessionInfo, UploadChunk } from '../../src/research/types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  study_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  condition TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  info_json TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
  study_id TEXT NOT NULL,
  upload_id TEXT NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions(session_id),
  seq INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  content_sha256 TEXT,
  PRIMARY KEY (study_id, upload_id),
  UNIQUE (session_id, seq)
);
CREATE TABLE IF NOT EXISTS samples (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  t_ms REAL NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL, data_json TEXT NOT NULL,
  PRIMARY KEY (session_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS markers (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  t_ms REAL NOT NULL, source TEXT NOT NULL, label TEXT NOT NULL, data_json TEXT NOT NULL,
  PRIMARY KEY (session_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS responses (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  t_ms REAL NOT NULL, questionnaire_id TEXT NOT NULL, data_json TEXT NOT NULL,
  PRIMARY KEY (session_id, seq, idx)
);
CREATE TABLE IF NOT EXISTS questionnaires (
  session_id TEXT NOT NULL, questionnaire_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  definition_json TEXT NOT NULL,
  PRIMARY KEY (session_id, questionnaire_id)
);
`;

/**
 * Schema version 1: upload ids are scoped per study (one study's token cannot hit, or learn about,
 * another study's uploads) and carry a hash of their content (a changed chunk under a reused id is
 * a conflict, not a duplicate). Version 0 databases are migrated when opened for writing.
 */
const SCHEMA_VERSION = 1;
const BUSY_TIMEOUT_MS = 30_000;

function migrateFromV0(db: Database.Database): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('uploads')").all() as { name: string }[];
  if (columns.length === 0 || columns.some((c) => c.name === 'study_id')) return;
  db.transaction(() => {
    db.exec('ALTER TABLE uploads RENAME TO uploads_v0');
    db.exec(SCHEMA);
    // Hashes of old uploads are unknown (NULL): a retry of one is still recognised as a duplicate.
    db.exec(`INSERT INTO uploads (study_id, upload_id, session_id, seq, received_at, row_count, content_sha256)
      SELECT s.study_id, u.upload_id, u.session_id, u.seq, u.received_at, u.row_count, NULL FROM uploads_v0 u JOIN sessions s USING (session_id)`);
    db.exec('DROP TABLE uploads_v0');
  }).immediate();
}

/** The upload contradicts what is stored (another study's session, a changed session, a taken seq). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export type StoreResult = { status: 'stored'; rows: number } | { status: 'duplicate' };

/** Same JSON text for equal objects regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    : v));
}

/** What makes two uploads the same: their parsed content, whatever the key order or spacing. */
function contentHash(chunk: UploadChunk): string {
  return createHash('sha256').update(canonical(chunk)).digest('hex');
}

export class StudyStore {
  readonly db: Database.Database;

  constructor(file: string, options: { readonly?: boolean } = {}) {
    // Participants' data: a new database is created readable by its owner only. SQLite gives its
    // -wal and -shm files the database file's permissions, so creating that file first is enough.
    if (!options.readonly && file !== ':memory:' && file !== '') {
      try {
        closeSync(openSync(file, 'wx', 0o600));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    // A server and an export (or a second server) may share the file: wait for the other's commit
    // rather than fail after better-sqlite3's default 5 s, which a loaded machine can exceed.
    this.db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, timeout: BUSY_TIMEOUT_MS });
    if (!options.readonly) {
      // WAL + FULL: a commit survives the process being killed and the machine losing power.
      // Each change of the file is made only when needed: opening a current database takes no write
      // lock, so it never queues behind a process that is storing uploads.
      if (this.db.pragma('journal_mode', { simple: true }) !== 'wal') this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      if (this.db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
        migrateFromV0(this.db);
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
    }
  }

  close(): void {
    this.db.close();
  }

  /** The questionnaire definitions a session has (to validate answers in later uploads). */
  questionnaires(sessionId: string): Map<string, Questionnaire> {
    const rows = this.db.prepare('SELECT definition_json FROM questionnaires WHERE session_id = ?').all(sessionId) as { definition_json: string }[];
    return new Map(rows.map((r) => {
      const q = JSON.parse(r.definition_json) as Questionnaire;
      return [q.id, q];
    }));
  }

  /** Stores one upload atomically; a known uploadId is a duplicate and changes nothing. */
  storeChunk(studyId: string, chunk: UploadChunk, receivedAt = new Date().toISOString()): StoreResult {
    return this.db.transaction((): StoreResult => {
      const hash = contentHash(chunk);
      const known = this.db.prepare('SELECT session_id, seq, content_sha256 FROM uploads WHERE study_id = ? AND upload_id = ?')
        .get(studyId, chunk.uploadId) as { session_id: string; seq: number; content_sha256: string | null } | undefined;
      if (known) {
        // Only this study's own uploads are looked up, so nothing here names another study's data.
        if (known.session_id !== chunk.session.sessionId || known.seq !== chunk.seq) {
          throw new ConflictError(`upload ${chunk.uploadId} was already used for session ${known.session_id} chunk ${known.seq}`);
        }
        if (known.content_sha256 !== null && known.content_sha256 !== hash) {
          throw new ConflictError(`upload ${chunk.uploadId} was already stored with different content; a changed chunk needs a new uploadId`);
        }
        return { status: 'duplicate' };
      }
      this.upsertSession(studyId, chunk.session, receivedAt);
      const taken = this.db.prepare('SELECT upload_id FROM uploads WHERE session_id = ? AND seq = ?').get(chunk.session.sessionId, chunk.seq) as { upload_id: string } | undefined;
      if (taken) throw new ConflictError(`chunk ${chunk.seq} of session ${chunk.session.sessionId} was already stored by upload ${taken.upload_id}`);
      const sid = chunk.session.sessionId;
      const seq = chunk.seq;
      const rows = chunk.samples.length + chunk.markers.length + chunk.responses.length + chunk.questionnaires.length;
      this.db.prepare('INSERT INTO uploads (study_id, upload_id, session_id, seq, received_at, row_count, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(studyId, chunk.uploadId, sid, seq, receivedAt, rows, hash);
      const sample = this.db.prepare('INSERT INTO samples (session_id, seq, idx, t_ms, label, confidence, data_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
      chunk.samples.forEach((s, i) => sample.run(sid, seq, i, s.tMs, s.label, s.confidence, JSON.stringify(s)));
      const marker = this.db.prepare('INSERT INTO markers (session_id, seq, idx, t_ms, source, label, data_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
      chunk.markers.forEach((m, i) => marker.run(sid, seq, i, m.tMs, m.source, m.label, JSON.stringify(m)));
      const response = this.db.prepare('INSERT INTO responses (session_id, seq, idx, t_ms, questionnaire_id, data_json) VALUES (?, ?, ?, ?, ?, ?)');
      chunk.responses.forEach((r, i) => response.run(sid, seq, i, r.tMs, r.questionnaireId, JSON.stringify(r)));
      const findQ = this.db.prepare('SELECT definition_json FROM questionnaires WHERE session_id = ? AND questionnaire_id = ?');
      const insertQ = this.db.prepare('INSERT INTO questionnaires (session_id, questionnaire_id, seq, idx, definition_json) VALUES (?, ?, ?, ?, ?)');
      chunk.questionnaires.forEach((q, i) => {
        const existing = findQ.get(sid, q.id) as { definition_json: string } | undefined;
        if (!existing) insertQ.run(sid, q.id, seq, i, JSON.stringify(q));
        else if (canonical(JSON.parse(existing.definition_json)) !== canonical(q)) throw new ConflictError(`questionnaire ${q.id} of session ${sid} differs from the stored one`);
      });
      if (chunk.endedAt !== undefined) this.db.prepare('UPDATE sessions SET ended_at = ? WHERE session_id = ?').run(chunk.endedAt, sid);
      return { status: 'stored', rows };
    }).immediate();
  }

  private upsertSession(studyId: string, session: SessionInfo, receivedAt: string) {
    const row = this.db.prepare('SELECT study_id, info_json FROM sessions WHERE session_id = ?').get(session.sessionId) as { study_id: string; info_json: string } | undefined;
    if (!row) {
      this.db.prepare('INSERT INTO sessions (session_id, study_id, participant_id, condition, started_at, info_json, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(session.sessionId, studyId, session.participantId, session.condition, session.startedAt, JSON.stringify(session), receivedAt);
      return;
    }
    if (row.study_id !== studyId) throw new ConflictError(`session ${session.sessionId} belongs to another study`);
    if (canonical(JSON.parse(row.info_json)) !== canonical(session)) throw new ConflictError(`session ${session.sessionId} was stored with different session details`);
  }

  /**
   * Runs `read` in one read transaction: every query in it sees the database as of its first one
   * (WAL snapshot), so uploads committed meanwhile by the server are wholly in or wholly out.
   */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read).deferred();
  }

  sessionIds(studyId?: string): string[] {
    const rows = (studyId === undefined
      ? this.db.prepare('SELECT session_id FROM sessions ORDER BY started_at, session_id').all()
      : this.db.prepare('SELECT session_id FROM sessions WHERE study_id = ? ORDER BY started_at, session_id').all(studyId)) as { session_id: string }[];
    return rows.map((r) => r.session_id);
  }

  /** Reassembles a session as the recorder held it: rows in (chunk, position) order. */
  recording(sessionId: string): Recording {
    const session = this.db.prepare('SELECT info_json, ended_at FROM sessions WHERE session_id = ?').get(sessionId) as { info_json: string; ended_at: string | null } | undefined;
    if (!session) throw new Error(`no session ${sessionId}`);
    const json = (sql: string, col = 'data_json') => (this.db.prepare(sql).all(sessionId) as Record<string, string>[]).map((r) => JSON.parse(r[col]));
    return {
      format: 'halfface-recording',
      version: 1,
      session: JSON.parse(session.info_json),
      endedAt: session.ended_at,
      samples: json('SELECT data_json FROM samples WHERE session_id = ? ORDER BY seq, idx'),
      markers: json('SELECT data_json FROM markers WHERE session_id = ? ORDER BY seq, idx'),
      questionnaires: json('SELECT definition_json FROM questionnaires WHERE session_id = ? ORDER BY seq, idx', 'definition_json'),
      responses: json('SELECT data_json FROM responses WHERE session_id = ? ORDER BY seq, idx'),
    };
  }

  /** Chunks stored per session: gaps in seq mean uploads still on their way. */
  chunkSeqs(sessionId: string): number[] {
    return (this.db.prepare('SELECT seq FROM uploads WHERE session_id = ? ORDER BY seq').all(sessionId) as { seq: number }[]).map((r) => r.seq);
  }
}
