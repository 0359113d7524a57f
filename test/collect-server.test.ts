/**
 * The collection server over real HTTP on 127.0.0.1 with a real SQLite file: token → 401, schema
 * and consistency → 400 with the reason, size → 413, retried uploads stored once, and the export
 * (CLI) equal to what the recorder recorded. Uploads go through the real Uploader (src/research).
 */
import Database from 'better-sqlite3';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportCsvFiles, MAX_CHUNK_SAMPLES, MemoryUploadQueue, recordingFromJson, ResearchRecorder, Uploader, UPLOAD_PATH,
  VALENCE_AROUSAL, type ExpressionSample, type UploadChunk, type UploadOutcome,
} from '../src/research/index.js';
import { createCollectServer, listen, parseTokenFile } from '../tools/collect/server.js';
import { exportStudy } from '../tools/collect/export.js';
import { StudyStore } from '../tools/collect/store.js';
import { STREAM_ORIGIN_MS, trackedStream } from './helpers/tracked-stream.js';

const TOKEN = 'study-token-0123456789abcdef';
const OTHER_TOKEN = 'other-study-token-0123456789';
const THIRD_TOKEN = 'third-study-token-0123456789';
const MAX_BODY = 128 * 1024;

let dir: string;
let store: StudyStore;
let server: Server;
let url: string;
let stream: ExpressionSample[];

beforeAll(async () => {
  stream = await trackedStream(12);
  dir = mkdtempSync(join(tmpdir(), 'halfface-collect-'));
  store = new StudyStore(join(dir, 'study.sqlite'));
  server = createCollectServer({ store, tokens: parseTokenFile(`# test study\nstudy-a ${TOKEN}\nstudy-b ${OTHER_TOKEN}\nstudy-c ${THIRD_TOKEN}\n`), maxBodyBytes: MAX_BODY });
  url = await listen(server, '127.0.0.1', 0);
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function session(participantId = 'P01', condition = 'A') {
  const rec = new ResearchRecorder({ participantId, condition });
  rec.start({ startedAtMs: STREAM_ORIGIN_MS });
  return rec;
}

function oneChunk(samples = 10): UploadChunk {
  const rec = session();
  for (const s of stream.slice(0, samples)) rec.push(s);
  rec.mark('start', 'keyboard');
  return rec.takeChunk()!;
}

async function post(body: unknown, token: string | null = TOKEN, raw = false) {
  const res = await fetch(url + UPLOAD_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as { status?: string; error?: string } };
}

const count = (table: string, sessionId: string) =>
  (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE session_id = ?`).get(sessionId) as { n: number }).n;

describe('authentication', () => {
  it('a missing or wrong token is 401 and stores nothing', async () => {
    const chunk = oneChunk();
    for (const token of [null, 'wrong-token-0123456789abcdef', `${TOKEN}x`]) {
      const r = await post(chunk, token);
      expect(r.status).toBe(401);
      expect(r.body.error).toMatch(/bearer token/);
    }
    expect(store.sessionIds()).not.toContain(chunk.session.sessionId);
    const uploader = new Uploader({ endpoint: url, token: 'wrong-token-0123456789abcdef', queue: new MemoryUploadQueue() });
    expect(await uploader.send({ uploadId: chunk.uploadId, chunk, queuedAt: 0, attempts: 0, state: 'pending' })).toMatchObject({ kind: 'unauthorized', status: 401 });
  });

  it('a session belongs to the study whose token uploaded it', async () => {
    const chunk = oneChunk();
    expect((await post(chunk, TOKEN)).status).toBe(201);
    const again = { ...chunk, uploadId: `${chunk.uploadId}-b`, seq: 1 };
    const r = await post(again, OTHER_TOKEN);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/another study/);
    expect(store.sessionIds('study-a')).toContain(chunk.session.sessionId);
    expect(store.sessionIds('study-b')).not.toContain(chunk.session.sessionId);
  });

  it('token files: one token per study, short tokens refused', () => {
    expect(parseTokenFile(`${TOKEN}\n`)).toEqual([{ studyId: 'default', token: TOKEN }]);
    expect(() => parseTokenFile('short')).toThrow(/about \d+ bits; tokens need 128/);
    expect(() => parseTokenFile('# nothing\n')).toThrow(/no token/);
  });

  it('tokens under 128 bits, and one token for two studies, are refused', () => {
    // 20 hex digits are 80 bits, whatever their length in characters
    expect(() => parseTokenFile('0123456789abcdef0123')).toThrow(/line 1: the token has about 80 bits; tokens need 128 .*new-token/);
    expect(() => parseTokenFile('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toThrow(/about \d+ bits; tokens need 128/);
    expect(parseTokenFile('0123456789abcdef0123456789abcdef')).toHaveLength(1);
    expect(() => parseTokenFile(`a ${TOKEN}\nb ${OTHER_TOKEN}\nc ${TOKEN}\n`)).toThrow(/line 3: the same token as line 1 \(study a\)/);
  });

  it('repeated failed tokens from one address are locked out (429) for a while; other addresses are not', async () => {
    const limited = createCollectServer({ store, tokens: parseTokenFile(`study-a ${TOKEN}`), authFailureLimit: 5, authWindowMs: 1500 });
    const limitedUrl = await listen(limited, '127.0.0.1', 0);
    const chunk = oneChunk(1);
    const body = JSON.stringify(chunk);
    // node:http, not fetch: only it can pick the local address (127.0.0.2 is loopback too on Linux)
    const send = (token: string, localAddress = '127.0.0.1', method = 'POST', path = UPLOAD_PATH) => new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
      const req = request(limitedUrl + path, { method, localAddress, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': method === 'POST' ? Buffer.byteLength(body) : 0 } }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: text }));
      });
      req.on('error', reject);
      req.end(method === 'POST' ? body : undefined);
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await send(`guess-${i}-0123456789abcdef`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const locked = await send(TOKEN);
      expect(locked.status).toBe(429); // even the right token, or guessing would go on
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
      expect(JSON.parse(locked.body).error).toMatch(/too many failed token attempts/);
      expect((await send(TOKEN, '127.0.0.2')).status).toBe(201);
      const head = await send('', '127.0.0.1', 'HEAD', '/v1/health');
      expect([head.status, head.body]).toEqual([200, '']);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await send(TOKEN)).status).toBe(200);
    } finally {
      await new Promise((r) => limited.close(r));
    }
  });
});

describe('the documented token command', () => {
  // Async: a synchronous child would freeze this process's HTTP server and keep-alive timers.
  const run = promisify(execFile);

  it('new-token --out writes a token file the server reads, readable by its owner only', async () => {
    const file = join(dir, 'made.token');
    await run('npm', ['run', 'collect', '--', 'new-token', '--out', file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [entry] = parseTokenFile(readFileSync(file, 'utf8'));
    expect(entry.studyId).toBe('default');
    expect(entry.token).toMatch(/^[0-9a-f]{64}$/);
    // never overwrites a token file a study already hands out
    await expect(run('npm', ['run', 'collect', '--', 'new-token', '--out', file])).rejects.toThrow(/already exists/);
    expect(parseTokenFile(readFileSync(file, 'utf8'))).toEqual([entry]);
  });

  it("a file that caught npm's banner (new-token > FILE) is refused with what to run instead", async () => {
    const file = join(dir, 'redirected.token');
    await run('sh', ['-c', `npm run collect -- new-token > '${file}'`]);
    expect(() => parseTokenFile(readFileSync(file, 'utf8'))).toThrow(/npm.*banner.*new-token --out/);
  });
});

describe('schema and consistency', () => {
  const cases: [string, (c: UploadChunk) => unknown, RegExp][] = [
    ['missing uploadId', (c) => ({ ...c, uploadId: undefined }), /required property 'uploadId'/],
    ['negative seq', (c) => ({ ...c, seq: -1 }), /\/seq must be >= 0/],
    ['unknown top-level field', (c) => ({ ...c, extra: 1 }), /additional properties \(extra\)/],
    ['probability above 1', (c) => ({ ...c, samples: [{ ...c.samples[0], probabilities: { ...c.samples[0].probabilities, fear: 1.5 } }] }), /probabilities\/fear must be <=/],
    ['probability missing', (c) => { const { fear: _, ...p } = c.samples[0].probabilities; return { ...c, samples: [{ ...c.samples[0], probabilities: p }] }; }, /required property 'fear'/],
    ['label not an expression', (c) => ({ ...c, samples: [{ ...c.samples[0], label: 'joy' }] }), /label must be equal to one of the allowed values/],
    ['tMs as a string', (c) => ({ ...c, samples: [{ ...c.samples[0], tMs: '12' }] }), /tMs must be number/],
    ['marker source', (c) => ({ ...c, markers: [{ tMs: 1, label: 'x', source: 'mouse' }] }), /source must be equal to one of/],
    ['bad startedAt', (c) => ({ ...c, session: { ...c.session, startedAt: 'yesterday' } }), /startedAt must match pattern/],
    ['image without opt-in', (c) => ({ ...c, samples: [{ ...c.samples[0], image: 'data:image/png;base64,AAAA' }] }), /did not opt in/],
    ['answer out of range', (c) => ({ ...c, responses: [{ tMs: 1, questionnaireId: 'valence-arousal', answers: { valence: 10, arousal: 1 } }] }), /valence: 10 is outside 1..9/],
    ['unknown questionnaire', (c) => ({ ...c, responses: [{ tMs: 1, questionnaireId: 'nope', answers: {} }] }), /unknown questionnaire nope/],
    ['negative sample time', (c) => ({ ...c, samples: [{ ...c.samples[0], tMs: -1 }] }), /samples\/0\/tMs must be >= 0/],
    ['huge sample time', (c) => ({ ...c, samples: [{ ...c.samples[0], tMs: 1e300 }] }), /samples\/0\/tMs must be <=/],
    ['huge tracker clock', (c) => ({ ...c, session: { ...c.session, clockOriginMs: -1e300 } }), /clockOriginMs must be >=/],
    ['negative marker time', (c) => ({ ...c, markers: [{ ...c.markers[0], tMs: -5 }] }), /markers\/0\/tMs must be >= 0/],
    ['samples going backwards', (c) => ({ ...c, samples: [{ ...c.samples[0], tMs: 100 }, { ...c.samples[1], tMs: 50 }] }), /samples\/1: tMs 50 is before the previous sample's 100/],
    ['impossible start date', (c) => ({ ...c, session: { ...c.session, startedAt: '2025-02-30T10:00:00.000Z' } }), /startedAt 2025-02-30T10:00:00.000Z is not a real date/],
    ['hour 24', (c) => ({ ...c, session: { ...c.session, startedAt: '2025-03-01T24:00:00Z' } }), /not a real date/],
    ['end before start', (c) => ({ ...c, endedAt: '2000-01-01T00:00:00.000Z' }), /endedAt 2000-01-01T00:00:00.000Z is before the session's startedAt/],
    ['impossible end date', (c) => ({ ...c, endedAt: '2099-04-31T00:00:00Z' }), /endedAt 2099-04-31T00:00:00Z is not a real date/],
    ['slider with min above max', (c) => ({ ...c, questionnaires: [{ id: 'q1', title: 'Q', items: [{ kind: 'slider', id: 's', prompt: 'S', min: 9, max: 1 }] }] }), /questionnaires\/0: item 0 \(s\): slider needs finite min < max/],
    ['duplicate item ids', (c) => ({ ...c, questionnaires: [{ id: 'q2', title: 'Q', items: [{ kind: 'likert', id: 'a', prompt: 'A', points: 5 }, { kind: 'likert', id: 'a', prompt: 'B', points: 5 }] }] }), /duplicate id a/],
    ['likert anchors that fit no scale', (c) => ({ ...c, questionnaires: [{ id: 'q3', title: 'Q', items: [{ kind: 'likert', id: 'a', prompt: 'A', points: 5, anchors: ['x', 'y', 'z'] }] }] }), /anchors must be 2 labels/],
    ['NUL in a text field', (c) => ({ ...c, session: { ...c.session, participantId: 'P\u000001' } }), /\/session\/participantId: text holds a NUL character/],
    ['NUL in a metadata key', (c) => ({ ...c, session: { ...c.session, meta: { 'a\u0000b': 'x' } } }), /\/session\/meta: key .* holds a NUL character/],
    ['lone surrogate in a marker label', (c) => ({ ...c, markers: [{ ...c.markers[0], label: 'go \ud800' }] }), /\/markers\/0\/label: text holds a lone surrogate/],
  ];
  for (const [name, mutate, reason] of cases) {
    it(`${name} → 400 with the reason`, async () => {
      const chunk = oneChunk(2);
      const r = await post(mutate(chunk));
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(reason);
      expect(store.sessionIds()).not.toContain(chunk.session.sessionId);
    });
  }

  it('not JSON → 400; not application/json → 415; wrong path → 404', async () => {
    expect(await post('{"uploadId": ', TOKEN, true)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    const res = await fetch(url + UPLOAD_PATH, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(res.status).toBe(415);
    expect((await fetch(`${url}/v1/other`)).status).toBe(404);
  });

  it('answers to a questionnaire sent in an earlier chunk are checked against it', async () => {
    const rec = session();
    rec.push(stream[0]);
    const first = rec.takeChunk()!;
    expect(first.questionnaires).toEqual([VALENCE_AROUSAL]);
    expect((await post(first)).status).toBe(201);
    rec.respond('valence-arousal', { valence: 3, arousal: 4 });
    const second = rec.takeChunk()!;
    expect(second.questionnaires).toEqual([]);
    expect((await post({ ...second, responses: [{ ...second.responses[0], answers: { valence: 3 } }] })).body.error).toMatch(/arousal: not answered/);
    expect((await post(second)).status).toBe(201);
  });
});

describe('size limits', () => {
  it('a body over the limit → 413, and the uploader keeps it as rejected instead of retrying', async () => {
    const rec = session();
    for (const s of stream) rec.push(s);
    const chunk = rec.takeChunk()!;
    expect(JSON.stringify(chunk).length).toBeGreaterThan(MAX_BODY);
    const r = await post(chunk);
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/limit/);
    const queue = new MemoryUploadQueue();
    const outcomes: UploadOutcome[] = [];
    const uploader = new Uploader({ endpoint: url, token: TOKEN, queue, onOutcome: (o) => outcomes.push(o) });
    await uploader.enqueue(chunk);
    expect(await uploader.flushOnce()).toMatchObject({ done: true });
    expect(outcomes).toEqual([{ kind: 'rejected', uploadId: chunk.uploadId, status: 413, reason: expect.stringMatching(/limit/) }]);
    expect(await queue.list()).toMatchObject([{ uploadId: chunk.uploadId, state: 'rejected', attempts: 1 }]);
    expect(store.sessionIds()).not.toContain(chunk.session.sessionId);
  });

  it(`more than ${MAX_CHUNK_SAMPLES} samples in one chunk → 400 even under the byte limit`, async () => {
    const big = createCollectServer({ store, tokens: parseTokenFile(TOKEN), maxBodyBytes: 64 * 1024 * 1024 });
    const bigUrl = await listen(big, '127.0.0.1', 0);
    try {
      const chunk = oneChunk(1);
      const many = { ...chunk, samples: Array.from({ length: MAX_CHUNK_SAMPLES + 1 }, () => chunk.samples[0]) };
      const res = await fetch(bigUrl + UPLOAD_PATH, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(many) });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/samples must NOT have more than 5000 items/);
    } finally {
      await new Promise((r) => big.close(r));
    }
  });
});

describe('idempotent uploads', () => {
  it('the same upload twice is stored once', async () => {
    const chunk = oneChunk(8);
    expect(await post(chunk)).toMatchObject({ status: 201, body: { status: 'stored' } });
    expect(await post(chunk)).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    const uploader = new Uploader({ endpoint: url, token: TOKEN, queue: new MemoryUploadQueue() });
    expect(await uploader.send({ uploadId: chunk.uploadId, chunk, queuedAt: 0, attempts: 0, state: 'pending' })).toEqual({ kind: 'duplicate', uploadId: chunk.uploadId });
    expect(count('samples', chunk.session.sessionId)).toBe(8);
    expect(count('markers', chunk.session.sessionId)).toBe(1);
    expect(count('uploads', chunk.session.sessionId)).toBe(1);
  });

  it('a different upload claiming a stored chunk number → 409, nothing added', async () => {
    const chunk = oneChunk(3);
    expect((await post(chunk)).status).toBe(201);
    const r = await post({ ...chunk, uploadId: `${chunk.uploadId}-2` });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/already stored/);
    const changed = await post({ ...chunk, uploadId: `${chunk.uploadId}-3`, seq: 1, session: { ...chunk.session, condition: 'B' } });
    expect(changed.status).toBe(409);
    expect(changed.body.error).toMatch(/different session details/);
    expect(count('samples', chunk.session.sessionId)).toBe(3);
  });
});

describe('studies are kept apart', () => {
  it("another study's token reusing an uploadId stores its own upload and learns nothing of the first", async () => {
    const a = oneChunk(4);
    expect((await post(a, TOKEN)).status).toBe(201);
    // study B, its own session, study A's uploadId: a new upload in study B, not A's duplicate
    const b = { ...oneChunk(2), uploadId: a.uploadId };
    expect(await post(b, THIRD_TOKEN)).toMatchObject({ status: 201, body: { status: 'stored' } });
    expect(store.sessionIds('study-c')).toContain(b.session.sessionId);
    expect(count('samples', b.session.sessionId)).toBe(2);
    // replaying A's upload, and A's uploadId at another seq, under B's token: refused, A's ids never named
    for (const replay of [a, { ...b, seq: 1 }, { ...a, seq: 1 }]) {
      const r = await post(replay, THIRD_TOKEN);
      expect(r.status).toBe(409);
      if (replay.session.sessionId !== a.session.sessionId) expect(r.body.error).not.toContain(a.session.sessionId);
    }
    expect(count('samples', a.session.sessionId)).toBe(4);
    expect(count('samples', b.session.sessionId)).toBe(2);
  });
});

describe('changed content under a reused uploadId', () => {
  it('→ 409, nothing changed; the uploader keeps the chunk as rejected and reports it', async () => {
    const chunk = oneChunk(3);
    expect((await post(chunk)).status).toBe(201);
    const changed: UploadChunk = { ...chunk, markers: [{ ...chunk.markers[0], label: 'changed' }] };
    const r = await post(changed);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/different content/);
    // same content, keys in another order: still the same upload
    const reordered = Object.fromEntries(Object.entries(chunk).reverse());
    expect(await post(reordered)).toMatchObject({ status: 200, body: { status: 'duplicate' } });

    const queue = new MemoryUploadQueue();
    const outcomes: UploadOutcome[] = [];
    const uploader = new Uploader({ endpoint: url, token: TOKEN, queue, onOutcome: (o) => outcomes.push(o) });
    await uploader.enqueue(changed);
    expect(await uploader.flushOnce()).toMatchObject({ done: true });
    expect(outcomes).toEqual([{ kind: 'rejected', uploadId: chunk.uploadId, status: 409, reason: expect.stringMatching(/different content/) }]);
    expect(await queue.list()).toMatchObject([{ uploadId: chunk.uploadId, state: 'rejected', chunk: changed }]);
    expect(store.recording(chunk.session.sessionId).markers.map((m) => m.label)).toEqual(['start']);
  });
});

describe('files', () => {
  it('the database and its WAL are created readable by their owner only', () => {
    const file = join(dir, 'private.sqlite');
    const created = new StudyStore(file);
    try {
      created.storeChunk('study-a', oneChunk(1));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    } finally {
      created.close();
    }
  });
});

describe('a database from before upload ids were scoped per study', () => {
  it('is migrated when opened: its uploads stay known as duplicates, in their study', async () => {
    const file = join(dir, 'v0.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE sessions (session_id TEXT PRIMARY KEY, study_id TEXT NOT NULL, participant_id TEXT NOT NULL, condition TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT, info_json TEXT NOT NULL, received_at TEXT NOT NULL);
      CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(session_id), seq INTEGER NOT NULL,
        received_at TEXT NOT NULL, row_count INTEGER NOT NULL, UNIQUE (session_id, seq));`);
    const chunk = oneChunk(0);
    old.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL, ?, ?)').run(chunk.session.sessionId, 'study-a', 'P01', 'A', chunk.session.startedAt, JSON.stringify(chunk.session), 'then');
    old.prepare('INSERT INTO uploads VALUES (?, ?, 0, ?, 1)').run(chunk.uploadId, chunk.session.sessionId, 'then');
    old.close();
    const migrated = new StudyStore(file);
    try {
      expect(migrated.storeChunk('study-a', chunk)).toEqual({ status: 'duplicate' });
      expect(() => migrated.storeChunk('study-b', chunk)).toThrow(/another study/);
      expect(migrated.db.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      migrated.close();
    }
  });
});

describe('export', () => {
  it('npm run collect -- export writes what the recorder recorded', async () => {
    const recorders = [session('P10', 'VR'), session('P11', 'desktop')];
    const queue = new MemoryUploadQueue();
    const uploader = new Uploader({ endpoint: url, token: OTHER_TOKEN, queue });
    for (const [k, rec] of recorders.entries()) {
      stream.forEach((s, i) => {
        rec.push(s);
        if (i % 40 === 5) rec.mark(`event ${i}`, k ? 'controller' : 'keyboard', 'detail, with "quotes"');
      });
      rec.respond('valence-arousal', { valence: 2 + k, arousal: 7.5 });
      rec.stop();
      for (let c = rec.takeChunk(30); c; c = rec.takeChunk(30)) await uploader.enqueue(c);
    }
    uploader.start();
    await uploader.drained();
    await uploader.stop();
    const out = join(dir, 'export');
    const log = execFileSync(process.execPath, ['--import', 'tsx', 'tools/collect/cli.ts', 'export', '--db', join(dir, 'study.sqlite'), '--out', out, '--study', 'study-b'], { encoding: 'utf8' });
    expect(log).toMatch(`exported 2 session(s), ${2 * stream.length} sample(s)`);
    const recorded = recorders.map((r) => r.recording());
    const exported = readdirSync(join(out, 'json')).map((f) => recordingFromJson(readFileSync(join(out, 'json', f), 'utf8')));
    const byId = (id: string) => exported.find((e) => e.session.sessionId === id);
    for (const r of recorded) expect(byId(r.session.sessionId)).toEqual(r);
    // Sessions that start in the same millisecond may come out in either order: compare the rows as sets.
    const rows = (text: string) => { const [header, ...rest] = text.split('\n'); return [header, ...rest.sort()]; };
    for (const [name, text] of Object.entries(exportCsvFiles(recorded))) expect(rows(readFileSync(join(out, name), 'utf8'))).toEqual(rows(text));
  });

  it('every session gets its own JSON file with a safe name', () => {
    const ids = ['x:1', 'x_1', '..', '.hidden', 'Ab', 'aB', 'CON', 'com1.x', 'plain-id'];
    for (const sessionId of ids) {
      const chunk = oneChunk(1);
      store.storeChunk('names', { ...chunk, session: { ...chunk.session, sessionId } });
    }
    const out = join(dir, 'export-names');
    exportStudy(store, out, 'names');
    const files = readdirSync(join(out, 'json'));
    expect(files).toHaveLength(ids.length);
    const reserved = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;
    for (const f of files) {
      expect(f).toMatch(/^[A-Za-z0-9_%~-][A-Za-z0-9_.%~-]*\.json$/);
      expect(f).not.toMatch(reserved);
    }
    // unique on case-insensitive file systems too (Windows, macOS)
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(ids.length);
    const exported = files.map((f) => recordingFromJson(readFileSync(join(out, 'json', f), 'utf8')).session.sessionId);
    expect(exported.sort()).toEqual([...ids].sort());
    expect(files).toContain('plain-id.json');
  });

  it('export of a missing database is a clear error, not an empty file', () => {
    let message = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'tools/collect/cli.ts', 'export', '--db', join(dir, 'missing.sqlite'), '--out', join(dir, 'x')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      message = String((e as { stderr: string }).stderr);
    }
    expect(message).toMatch(/database .*missing.sqlite does not exist/);
  });
});

