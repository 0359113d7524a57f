/**
 * Reliability of recording uploads against the real collection server, run as a child process on
 * 127.0.0.1 with a real SQLite file: the server is SIGKILLed while an upload is on the wire and
 * restarted on the same database; the real Uploader (src/research, Node fetch, in-memory queue)
 * retries and every row arrives exactly once. Also: recording while the server is down.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import Database from 'better-sqlite3';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryUploadQueue, recordingFromJson, ResearchRecorder, Uploader, type ExpressionSample, type UploadOutcome } from '../src/research/index.js';
import { exportStudy } from '../tools/collect/export.js';
import { freePort } from '../tools/collect/net.js';
import { StudyStore } from '../tools/collect/store.js';
import { STREAM_ORIGIN_MS, trackedStream } from './helpers/tracked-stream.js';

const TOKEN = 'reliability-token-0123456789';

interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, unknown>[];
  /** resolves with the first log line (after `from`) matching */
  waitFor(match: (line: Record<string, unknown>) => boolean, from?: number): Promise<Record<string, unknown>>;
  exited: Promise<void>;
}

let dir: string;
let tokenFile: string;
let stream: ExpressionSample[];
const running = new Set<ServerProcess>();

async function startServer(db: string, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/collect/cli.ts', '--db', db, '--token-file', tokenFile, '--port', String(port)], { stdio: 'pipe' });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; from: number; resolve: (l: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of [...waiters]) {
      if (lines.length - 1 >= w.from && w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const server: ServerProcess = {
    child, lines, exited,
    waitFor(match, from = 0) {
      const seen = lines.slice(from).find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, from, resolve });
        void exited.then(() => reject(new Error(`server exited before the expected log line; stderr: ${stderr}`)));
      });
    },
  };
  running.add(server);
  await server.waitFor((l) => l.event === 'listening');
  return server;
}

async function kill(server: ServerProcess, signal: NodeJS.Signals) {
  server.child.kill(signal);
  await server.exited;
  running.delete(server);
}

function recordSession(participantId: string): ResearchRecorder {
  const rec = new ResearchRecorder({ participantId, condition: 'reliability' });
  rec.start({ startedAtMs: STREAM_ORIGIN_MS });
  stream.forEach((s, i) => {
    rec.push(s);
    if (i % 25 === 0) rec.mark(`m${i}`, 'api');
  });
  rec.respond('valence-arousal', { valence: 5, arousal: 5 });
  rec.stop();
  return rec;
}

function storedCopy(db: string, sessionId: string) {
  const store = new StudyStore(db);
  try {
    const n = (t: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE session_id = ?`).get(sessionId) as { n: number }).n;
    return { recording: store.recording(sessionId), seqs: store.chunkSeqs(sessionId), samples: n('samples'), markers: n('markers'), responses: n('responses') };
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  stream = await trackedStream(12);
  dir = mkdtempSync(join(tmpdir(), 'halfface-reliability-'));
  tokenFile = join(dir, 'study.token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
});

afterEach(async () => {
  for (const s of [...running]) await kill(s, 'SIGKILL');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('collection server killed mid-upload', () => {
  it('the upload on the wire is retried after a restart and stored exactly once', async () => {
    const db = join(dir, 'killed.sqlite');
    const port = await freePort();
    let server = await startServer(db, port);
    const rec = recordSession('P-kill');
    const queue = new MemoryUploadQueue();
    const outcomes: UploadOutcome[] = [];

    // Real fetch; the first attempt at chunk 1 only gets half its body onto the wire (a slow
    // network), so the server is killed with the request unmistakably in flight.
    let throttledId: string | null = null;
    let halfSent!: () => void;
    const halfSentPromise = new Promise<void>((r) => { halfSent = r; });
    let settledWhenKilled: boolean | null = null;
    let throttledSettled = false;
    const throttledFetch: typeof fetch = (input, init) => {
      const body = String(init?.body ?? '');
      const chunk = JSON.parse(body) as { seq: number; uploadId: string };
      if (chunk.seq !== 1 || throttledId !== null) return fetch(input, init);
      throttledId = chunk.uploadId;
      const bytes = new TextEncoder().encode(body);
      const half = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, bytes.length >> 1));
          halfSent();
        },
        // the second half never comes: the server dies first
      });
      const pending = fetch(input, { ...init, body: half, duplex: 'half' } as RequestInit);
      pending.finally(() => { throttledSettled = true; }).catch(() => {});
      return pending;
    };

    const uploader = new Uploader({
      endpoint: `http://127.0.0.1:${port}`, token: TOKEN, queue, fetch: throttledFetch,
      backoff: { initialMs: 100, maxMs: 400 }, requestTimeoutMs: 10_000, onOutcome: (o) => outcomes.push(o),
    });
    for (let c = rec.takeChunk(20); c; c = rec.takeChunk(20)) await uploader.enqueue(c);
    const chunks = (await queue.list()).length;
    expect(chunks).toBeGreaterThanOrEqual(4);
    uploader.start();

    await halfSentPromise;
    // Uploads go one at a time: once the server has logged one more POST than it has answered,
    // the half-sent one is inside it.
    const killed = server;
    const open = () => killed.lines.filter((l) => l.event === 'request' && l.method === 'POST').length
      - killed.lines.filter((l) => l.event === 'upload' || l.event === 'refused').length;
    await expect.poll(open, { timeout: 20_000 }).toBe(1);
    settledWhenKilled = throttledSettled;
    await kill(server, 'SIGKILL');
    expect(settledWhenKilled).toBe(false);
    expect(killed.lines.filter((l) => l.event === 'upload').map((l) => l.seq)).toEqual([0]);

    // Down for a while: the uploader keeps failing and backing off, losing nothing.
    await expect.poll(() => outcomes.filter((o) => o.kind === 'retry').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    expect((await queue.list()).map((i) => i.chunk.seq)).toEqual(Array.from({ length: chunks - 1 }, (_, i) => i + 1));

    server = await startServer(db, port);
    await uploader.drained(60_000);
    await uploader.stop();
    await kill(server, 'SIGTERM');

    const killedAttempt = outcomes.find((o) => o.kind === 'retry' && o.uploadId === throttledId);
    expect(killedAttempt).toBeDefined();
    const stored = storedCopy(db, rec.sessionInfo!.sessionId);
    const recorded = rec.recording();
    expect(stored.seqs).toEqual(Array.from({ length: chunks }, (_, i) => i));
    expect([stored.samples, stored.markers, stored.responses]).toEqual([recorded.samples.length, recorded.markers.length, recorded.responses.length]);
    expect(stored.recording).toEqual(recorded);
  });
});

describe('the server process', () => {
  it('warns about a token file others can read, logs the client address of each upload, answers HEAD /v1/health', async () => {
    const db = join(dir, 'logged.sqlite');
    const port = await freePort();
    chmodSync(tokenFile, 0o644);
    const server = await startServer(db, port);
    expect(server.lines).toContainEqual(expect.objectContaining({ event: 'warning', message: expect.stringMatching(/readable by other users \(mode 644\); run: chmod 600/) }));
    const head = await fetch(`http://127.0.0.1:${port}/v1/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const rec = recordSession('P-log');
    const uploader = new Uploader({ endpoint: `http://127.0.0.1:${port}`, token: TOKEN, queue: new MemoryUploadQueue() });
    await uploader.enqueue(rec.takeChunk(10)!);
    expect(await uploader.flushOnce()).toMatchObject({ done: true, outcome: { kind: 'stored' } });
    const line = await server.waitFor((l) => l.event === 'upload');
    expect(line).toMatchObject({ client: '127.0.0.1', seq: 0 });
    await kill(server, 'SIGTERM');
    chmodSync(tokenFile, 0o600);
    const quiet = await startServer(db, port);
    expect(quiet.lines.some((l) => l.event === 'warning')).toBe(false);
    await kill(quiet, 'SIGTERM');
  });
});

describe('recording while the server is down', () => {
  it('queued uploads wait, then arrive once when the server comes up', async () => {
    const db = join(dir, 'offline.sqlite');
    const port = await freePort();
    const queue = new MemoryUploadQueue();
    const outcomes: UploadOutcome[] = [];
    const uploader = new Uploader({
      endpoint: `http://127.0.0.1:${port}`, token: TOKEN, queue,
      backoff: { initialMs: 100, maxMs: 300 }, onOutcome: (o) => outcomes.push(o),
    });
    uploader.start();
    const recs = [recordSession('P-off-1'), recordSession('P-off-2')];
    for (const rec of recs) for (let c = rec.takeChunk(40); c; c = rec.takeChunk(40)) await uploader.enqueue(c);
    await expect.poll(() => outcomes.filter((o) => o.kind === 'retry').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    expect(outcomes.every((o) => o.kind === 'retry')).toBe(true);

    const server = await startServer(db, port);
    await uploader.drained(60_000);
    await uploader.stop();
    // Anything sent twice would show up here as a duplicate, not as extra rows.
    await kill(server, 'SIGTERM');
    for (const rec of recs) {
      const stored = storedCopy(db, rec.sessionInfo!.sessionId);
      expect(stored.recording).toEqual(rec.recording());
      expect(stored.samples).toBe(stream.length);
    }
  });
});

describe('another process holding the database write lock', () => {
  it('uploads are answered 503 with Retry-After, health never waits, and everything arrives after the lock goes', async () => {
    const db = join(dir, 'locked.sqlite');
    const port = await freePort();
    const server = await startServer(db, port);
    const endpoint = `http://127.0.0.1:${port}`;
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE'); // e.g. a researcher's sqlite3 shell in the middle of an edit
    let released = false;
    try {
      const rec = recordSession('P-lock');
      const chunk = rec.takeChunk(20)!;
      const t0 = performance.now();
      const blocked = fetch(`${endpoint}/v1/uploads`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(chunk),
      });
      // while that upload waits for the lock, the server still answers at once
      const healthMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const h0 = performance.now();
        expect((await fetch(`${endpoint}/v1/health`)).status).toBe(200);
        healthMs.push(performance.now() - h0);
        await new Promise((r) => setTimeout(r, 100));
      }
      const answer = await blocked;
      const waitedMs = performance.now() - t0;
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await answer.json() as { error: string }).error).toMatch(/locked/);
      expect(Math.max(...healthMs)).toBeLessThan(250);
      expect(waitedMs).toBeLessThan(4000);

      const queue = new MemoryUploadQueue();
      const outcomes: UploadOutcome[] = [];
      const uploader = new Uploader({ endpoint, token: TOKEN, queue, backoff: { initialMs: 100, maxMs: 300 }, onOutcome: (o) => outcomes.push(o) });
      await uploader.enqueue(chunk);
      for (let c = rec.takeChunk(20); c; c = rec.takeChunk(20)) await uploader.enqueue(c);
      uploader.start();
      await expect.poll(() => outcomes.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(outcomes.every((o) => o.kind === 'retry')).toBe(true);
      holder.exec('ROLLBACK');
      released = true;
      await uploader.drained(30_000);
      await uploader.stop();
      await kill(server, 'SIGTERM');
      expect(storedCopy(db, rec.sessionInfo!.sessionId).recording).toEqual(rec.recording());
    } finally {
      if (!released) holder.exec('ROLLBACK');
      holder.close();
    }
  });
});

describe('exports while uploads are being stored', () => {
  it('opening a current database takes no write lock: an export opens while another process is mid-commit', () => {
    const db = join(dir, 'open-locked.sqlite');
    new StudyStore(db).close();
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE'); // a writer between its BEGIN and COMMIT
    try {
      const store = new StudyStore(db);
      expect(store.db.pragma('user_version', { simple: true })).toBe(1);
      expect(store.db.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 0 });
      store.close();
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('every exported session is one consistent snapshot: no chunk with its markers but not its samples', async () => {
    const db = join(dir, 'export-live.sqlite');
    new StudyStore(db).close();
    // A second process stores chunks of 5 samples + 1 marker as fast as it can, until this test has
    // exported enough times (a stop file, not a clock: on a loaded machine an export takes seconds).
    const writer = join(dir, 'writer.ts');
    const stopFile = join(dir, 'export-live.stop');
    writeFileSync(writer, `
      import { existsSync } from 'node:fs';
      import { StudyStore } from ${JSON.stringify(resolve('tools/collect/store.ts'))};
      const store = new StudyStore(${JSON.stringify(db)});
      const session = { sessionId: 's-live', participantId: 'P', condition: 'C', startedAt: '2025-03-01T10:00:00.000Z', clockOriginMs: 0, recordImages: false };
      const sample = (t) => ({ tMs: t, timestampMs: t, probabilities: {}, label: 'neutral', confidence: 1, blendshapes: {}, vrm: {} });
      const deadline = Date.now() + 120000;
      for (let seq = 0; Date.now() < deadline && !existsSync(${JSON.stringify(stopFile)}); seq++) {
        store.storeChunk('default', { uploadId: 'u' + seq, seq, session, samples: [0, 1, 2, 3, 4].map((i) => sample(seq * 5 + i)), markers: [{ tMs: seq * 5, label: 'm', source: 'api' }], questionnaires: [], responses: [] });
        if (seq === 0) console.log('writing');
      }
      store.close();
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
    const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    const store = new StudyStore(db);
    let exports = 0;
    const inconsistent: string[] = [];
    try {
      while (child.exitCode === null) {
        const out = join(dir, `export-live-${exports}`);
        exportStudy(store, out);
        const r = recordingFromJson(readFileSync(join(out, 'json', 's-live.json'), 'utf8'));
        const samples = readFileSync(join(out, 'samples.csv'), 'utf8').trim().split('\r\n').length - 1;
        if (r.samples.length !== 5 * r.markers.length || samples !== r.samples.length) {
          inconsistent.push(`${r.markers.length} markers, ${r.samples.length} samples in JSON, ${samples} in samples.csv`);
        }
        exports++;
        if (exports === 8) writeFileSync(stopFile, '');
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      store.close();
    }
    expect(await done).toBe(0);
    console.log(`exports during uploads: ${exports}, inconsistent: ${inconsistent.length}`);
    expect(exports).toBeGreaterThan(5);
    expect(inconsistent).toEqual([]);
  });
});

describe('npm run test:reliability', () => {
  const run = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/collect/reliability.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('exit', (code) => resolveRun({ code, out }));
  });
  const small = ['--clients', '3', '--uploads', '6', '--kills', '1', '--lock-ms', '2500', '--max-seconds', '120'];

  it('a small run: parallel clients, a kill -9, a held lock and the bad-input corpus, nothing lost', async () => {
    const { code, out } = await run(small);
    console.log(out);
    expect(code).toBe(0);
    expect(out).toMatch(/kill -9 rounds\s+1\n/);
    expect(out).toMatch(/conflicts \(409\)\s+3\n/);
    expect(out).toMatch(/503 while locked\s+[1-9]/);
    expect(out).toMatch(/bad inputs refused \(4xx\)\s+(\d+) \/ \1\n/);
    expect(out).toMatch(/lost\s+0\n/);
    expect(out).toMatch(/ok: nothing lost/);
  });

  it('exits non-zero when an acknowledged chunk is missing from the database', async () => {
    const { code, out } = await run([...small, '--kills', '0', '--simulate-loss']);
    expect(code).toBe(1);
    expect(out).toMatch(/lost\s+1\n/);
    expect(out).toMatch(/FAIL: 1 acknowledged chunk\(s\) lost/);
  });
});
