/**
 * npm run test:reliability -- [--clients 20] [--uploads 40] [--kills 8] [--max-seconds 300]
 *
 * The collection server under load and abuse, as a maintainer can rerun it: the real server
 * (tools/collect/cli.ts) as a child process on 127.0.0.1 with a real SQLite file in a temp folder,
 * the real Uploader (src/research) in this process. Loopback only; every loop is bounded.
 *
 *  1. parallel clients with retries: each records a session and uploads it chunk by chunk; some
 *     answers are thrown away after the server committed (a lost response), so the retry is a
 *     duplicate; each client then resends one stored chunk with changed content (a conflict);
 *  2. kill -9 rounds: while they upload, the server is SIGKILLed and restarted on the same database;
 *  3. lock contention: more sessions upload while this process holds the database's write lock;
 *  4. a bad-input corpus of malformed requests, each of which must be refused with a 4xx.
 *
 * Then every session is read back from the database and compared with what was recorded. Prints
 * the figures (accepted, duplicates, conflicts, lost, ...) and exits non-zero on any loss, any 5xx
 * other than 503 for the held lock, any bad input not refused, or a crash.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ARKIT_BLENDSHAPES, VRM_PRESETS } from '../../src/core/blendshapes.js';
import { EXPRESSIONS } from '../../src/core/labels.js';
import { MemoryUploadQueue, ResearchRecorder, Uploader, UPLOAD_PATH, type ExpressionSample, type UploadChunk, type UploadOutcome } from '../../src/research/index.js';
import { seededRandom } from '../data/random.js';
import { freePort } from './net.js';
import { StudyStore } from './store.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'f3a1c9e07b5d42886e1f0a9c3b7d5e2104c6a8f9e1b3d5c7a9e0f2b4d6c8a1e3';
const SAMPLES_PER_CHUNK = 20;

const count = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
  return n;
};

/** A plausible tracked frame: probabilities summing to 1, weights in 0..1. */
function syntheticSample(rand: () => number, timestampMs: number): ExpressionSample {
  const raw = EXPRESSIONS.map(() => rand() + 0.01);
  const sum = raw.reduce((a, b) => a + b, 0);
  const p = raw.map((x) => x / sum);
  const best = p.indexOf(Math.max(...p));
  return {
    timestampMs,
    probabilities: Object.fromEntries(EXPRESSIONS.map((e, i) => [e, p[i]])) as ExpressionSample['probabilities'],
    label: EXPRESSIONS[best],
    confidence: p[best],
    blendshapes: Object.fromEntries(ARKIT_BLENDSHAPES.slice(0, 12).map((k) => [k, rand()])),
    vrm: Object.fromEntries(VRM_PRESETS.map((k) => [k, rand()])) as ExpressionSample['vrm'],
  };
}

interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
}

interface Figures {
  accepted: number;
  duplicates: number;
  conflicts: number;
  retries: number;
  lockRefusals: number;
  serverErrors: number;
  unexpectedRejections: string[];
  killRounds: number;
  badInputs: number;
  badInputsRefused: number;
  badInputFailures: string[];
  sessions: number;
  chunks: number;
  acknowledged: number;
  lost: number;
  undelivered: number;
  mismatchedSessions: number;
  crashes: string[];
}

function startServer(db: string, tokenFile: string, port: number, figures: Figures): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'tools/collect/cli.ts'), '--db', db, '--token-file', tokenFile, '--port', String(port), '--quiet'], { cwd: REPO, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => {
    if (signal === null && code !== 0) figures.crashes.push(`server exited with ${code}: ${stderr.slice(-500)}`);
    r(code);
  }));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: { event?: string; status?: number };
      try {
        line = JSON.parse(text);
      } catch {
        figures.crashes.push(`server wrote a line that is not JSON: ${text.slice(0, 200)}`);
        return;
      }
      if (line.event === 'listening') {
        clearTimeout(timer);
        resolveStart({ child, exited });
      }
      if (line.event === 'refused' && line.status === 503) figures.lockRefusals++;
      if (line.event === 'refused' && typeof line.status === 'number' && line.status >= 500 && line.status !== 503) figures.serverErrors++;
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`the server exited before listening: ${stderr.slice(-500)}`)); });
  });
}

async function stopServer(server: ServerProcess, signal: NodeJS.Signals) {
  server.child.kill(signal);
  await server.exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  recorder: ResearchRecorder;
  chunks: UploadChunk[];
  uploader: Uploader;
  queue: MemoryUploadQueue;
  acknowledged: Set<string>;
}

/** One headset: a recorded session, queued in chunks, uploaded with retries through a flaky network. */
function makeClient(endpoint: string, name: string, uploads: number, rand: () => number, figures: Figures, lossRate: number): Client {
  const recorder = new ResearchRecorder({ participantId: name, condition: 'reliability' });
  const origin = 1000 + Math.floor(rand() * 1000);
  recorder.start({ startedAtMs: origin });
  for (let i = 0; i < uploads * SAMPLES_PER_CHUNK; i++) {
    recorder.push(syntheticSample(rand, origin + i * 33.3));
    if (i % SAMPLES_PER_CHUNK === 3) recorder.mark(`m${i}`, 'api');
  }
  recorder.respond('valence-arousal', { valence: 1 + Math.floor(rand() * 9), arousal: 5 });
  recorder.stop();
  const chunks: UploadChunk[] = [];
  for (let c = recorder.takeChunk(SAMPLES_PER_CHUNK); c; c = recorder.takeChunk(SAMPLES_PER_CHUNK)) chunks.push(c);
  const acknowledged = new Set<string>();
  // A lost response: the request reaches the server (and may be committed), the answer never comes back.
  const flaky: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (rand() < lossRate) {
      await response.arrayBuffer().catch(() => {});
      throw new Error('response lost (simulated)');
    }
    return response;
  };
  const onOutcome = (o: UploadOutcome) => {
    if (o.kind === 'stored') { figures.accepted++; acknowledged.add(o.uploadId); }
    else if (o.kind === 'duplicate') { figures.duplicates++; acknowledged.add(o.uploadId); }
    else if (o.kind === 'retry') figures.retries++;
    else if (o.kind === 'rejected') figures.unexpectedRejections.push(`${name}: ${o.status} ${o.reason}`);
    else figures.unexpectedRejections.push(`${name}: ${o.status} ${o.reason}`);
  };
  const queue = new MemoryUploadQueue();
  const uploader = new Uploader({ endpoint, token: TOKEN, queue, fetch: flaky, backoff: { initialMs: 50, maxMs: 500 }, requestTimeoutMs: 10_000, random: rand, onOutcome });
  return { recorder, chunks, uploader, queue, acknowledged };
}

async function runClients(clients: Client[], deadline: number): Promise<void> {
  for (const c of clients) {
    for (const chunk of c.chunks) await c.uploader.enqueue(chunk);
    c.uploader.start();
  }
  await Promise.all(clients.map((c) => c.uploader.drained(Math.max(1000, deadline - Date.now())).catch(() => {})));
  await Promise.all(clients.map((c) => c.uploader.stop()));
}

/** Each client resends one stored chunk with changed content under its uploadId: must be 409, changing nothing. */
async function sendConflicts(clients: Client[], figures: Figures) {
  for (const c of clients) {
    const original = c.chunks.find((ch) => c.acknowledged.has(ch.uploadId));
    if (!original) continue;
    const changed: UploadChunk = { ...original, markers: [...original.markers, { tMs: 0, label: 'changed after upload', source: 'api' }] };
    let outcome: UploadOutcome = { kind: 'retry', uploadId: changed.uploadId, reason: 'not sent' };
    // the client's network loses answers too: a bounded number of tries
    for (let attempt = 0; attempt < 5 && outcome.kind === 'retry'; attempt++) {
      outcome = await c.uploader.send({ uploadId: changed.uploadId, chunk: changed, queuedAt: Date.now(), attempts: attempt, state: 'pending' });
    }
    if (outcome.kind === 'rejected' && outcome.status === 409) figures.conflicts++;
    else figures.unexpectedRejections.push(`changed chunk ${changed.uploadId} answered ${JSON.stringify(outcome)}`);
  }
}

interface BadRequest {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Malformed and hostile requests; every one must get a 4xx with a JSON error and no stack trace. */
function badInputCorpus(valid: UploadChunk): BadRequest[] {
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const json = (name: string, value: unknown): BadRequest => ({ name, method: 'POST', headers: auth, body: JSON.stringify(value) });
  const s0 = valid.samples[0];
  return [
    { name: 'no token', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) },
    { name: 'wrong token', method: 'POST', headers: { ...auth, authorization: 'Bearer 0000000000000000000000000000000000000000' }, body: JSON.stringify(valid) },
    { name: 'basic auth', method: 'POST', headers: { ...auth, authorization: 'Basic dXNlcjpwYXNz' }, body: JSON.stringify(valid) },
    { name: 'text/plain', method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' },
    { name: 'empty body', method: 'POST', headers: auth, body: '' },
    { name: 'truncated JSON', method: 'POST', headers: auth, body: JSON.stringify(valid).slice(0, 100) },
    { name: 'JSON null', method: 'POST', headers: auth, body: 'null' },
    { name: 'JSON array', method: 'POST', headers: auth, body: '[]' },
    { name: 'JSON string', method: 'POST', headers: auth, body: '"upload"' },
    { name: 'deep nesting', method: 'POST', headers: auth, body: '['.repeat(100_000) + ']'.repeat(100_000) },
    { name: 'over the size limit', method: 'POST', headers: auth, body: 'x'.repeat(9 * 1024 * 1024) },
    { name: 'invalid UTF-8', method: 'POST', headers: auth, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
    { name: 'GET uploads', method: 'GET' },
    { name: 'DELETE uploads', method: 'DELETE', headers: auth },
    { name: 'unknown path', method: 'GET', path: '/v1/../../etc/passwd' },
    json('missing uploadId', { ...valid, uploadId: undefined }),
    json('uploadId with a slash', { ...valid, uploadId: '../x' }),
    json('negative seq', { ...valid, seq: -1 }),
    json('seq as a string', { ...valid, seq: '1' }),
    json('extra field', { ...valid, admin: true }),
    json('__proto__ field', JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(valid).slice(1)}`)),
    json('samples not a list', { ...valid, samples: {} }),
    json('probability NaN as null', { ...valid, samples: [{ ...s0, probabilities: { ...s0.probabilities, fear: null } }] }),
    json('probability 2', { ...valid, samples: [{ ...s0, probabilities: { ...s0.probabilities, fear: 2 } }] }),
    json('negative time', { ...valid, samples: [{ ...s0, tMs: -1 }] }),
    json('huge time', { ...valid, samples: [{ ...s0, tMs: 1e300 }] }),
    json('backwards times', { ...valid, samples: [{ ...s0, tMs: 10 }, { ...s0, tMs: 5 }] }),
    json('30 February', { ...valid, session: { ...valid.session, startedAt: '2025-02-30T10:00:00Z' } }),
    json('hour 24', { ...valid, session: { ...valid.session, startedAt: '2025-03-01T24:00:00Z' } }),
    json('ended before started', { ...valid, endedAt: '2000-01-01T00:00:00Z' }),
    json('NUL in participant', { ...valid, session: { ...valid.session, participantId: 'P\u0000' } }),
    json('lone surrogate', { ...valid, session: { ...valid.session, condition: '\ud800' } }),
    json('image without opt-in', { ...valid, samples: [{ ...s0, image: 'data:image/png;base64,AAAA' }] }),
    json('slider min > max', { ...valid, questionnaires: [{ id: 'q', title: 'Q', items: [{ kind: 'slider', id: 'a', prompt: 'A', min: 9, max: 1 }] }] }),
    json('answer to unknown questionnaire', { ...valid, responses: [{ tMs: 1, questionnaireId: 'nope', answers: {} }] }),
    json('answer out of range', { ...valid, responses: [{ tMs: 1, questionnaireId: 'valence-arousal', answers: { valence: 99, arousal: 1 } }] }),
    json('label not an expression', { ...valid, samples: [{ ...s0, label: 'joy' }] }),
    json('too many blendshapes', { ...valid, samples: [{ ...s0, blendshapes: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`b${i}`, 0])) }] }),
    json('blendshape name with a space', { ...valid, samples: [{ ...s0, blendshapes: { 'jaw Open': 0.5 } }] }),
  ];
}

function sendBad(endpoint: string, r: BadRequest): Promise<{ status: number; text: string }> {
  return fetch(endpoint + (r.path ?? UPLOAD_PATH), { method: r.method ?? 'POST', headers: r.headers, body: r.body as BodyInit | undefined, signal: AbortSignal.timeout(30_000) })
    .then(async (res) => ({ status: res.status, text: await res.text() }));
}

/** Bytes that are not HTTP at all, on a raw socket: the server must answer or close, and live on. */
function sendGarbage(port: number): Promise<string> {
  return new Promise((resolveAnswer) => {
    const socket = new Socket();
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (d) => { answer += d; });
    socket.on('close', () => resolveAnswer(answer));
    socket.on('error', () => {});
    socket.connect(port, '127.0.0.1', () => socket.end('\u0000\u0001GARBAGE / HTTP/9\r\n\r\n'));
  });
}

async function runBadInputs(endpoint: string, port: number, valid: UploadChunk, figures: Figures) {
  const corpus = badInputCorpus(valid);
  for (const r of corpus) {
    figures.badInputs++;
    let answer: { status: number; text: string };
    try {
      answer = await sendBad(endpoint, r);
    } catch (e) {
      // Only an over-limit body may be cut off once the server has answered 413.
      if (r.name === 'over the size limit') { figures.badInputsRefused++; continue; }
      figures.badInputFailures.push(`${r.name}: no answer (${(e as Error).message})`);
      continue;
    }
    const ok = answer.status >= 400 && answer.status < 500 && !/\n\s+at /.test(answer.text);
    if (ok) figures.badInputsRefused++;
    else figures.badInputFailures.push(`${r.name}: ${answer.status} ${answer.text.slice(0, 200)}`);
  }
  figures.badInputs++;
  const garbage = await sendGarbage(port);
  if (garbage === '' || /^HTTP\/1\.1 4\d\d/.test(garbage)) figures.badInputsRefused++;
  else figures.badInputFailures.push(`raw garbage: ${garbage.slice(0, 100)}`);
  const health = await fetch(`${endpoint}/v1/health`).then((r) => r.status, () => 0);
  if (health !== 200) figures.crashes.push(`health after the bad-input corpus: ${health}`);
}

/** Reads every session back and compares it with the recording; counts acknowledged chunks missing or changed. */
function verify(db: string, clients: Client[], figures: Figures) {
  const store = new StudyStore(db, { readonly: true });
  try {
    const rows = store.db.prepare('SELECT COUNT(*) AS n FROM samples WHERE session_id = ? AND seq = ?');
    const markers = store.db.prepare('SELECT COUNT(*) AS n FROM markers WHERE session_id = ? AND seq = ?');
    for (const c of clients) {
      figures.sessions++;
      const sessionId = c.recorder.sessionInfo!.sessionId;
      for (const chunk of c.chunks) {
        figures.chunks++;
        const acked = c.acknowledged.has(chunk.uploadId);
        if (acked) figures.acknowledged++;
        const stored = (rows.get(sessionId, chunk.seq) as { n: number }).n === chunk.samples.length
          && (markers.get(sessionId, chunk.seq) as { n: number }).n === chunk.markers.length
          && store.chunkSeqs(sessionId).includes(chunk.seq);
        if (acked && !stored) figures.lost++;
        if (!acked) figures.undelivered++;
      }
      const ids = store.sessionIds();
      if (!ids.includes(sessionId) || !isDeepStrictEqual(store.recording(sessionId), c.recorder.recording())) figures.mismatchedSessions++;
    }
  } finally {
    store.close();
  }
}

async function main() {
  const o = new Command()
    .name('test:reliability')
    .description('the collection server under parallel clients, kill -9, a held lock and bad input (loopback only)')
    .option('--clients <n>', 'parallel uploading clients', count('--clients', 1, 200), 20)
    .option('--uploads <n>', 'chunks each client uploads', count('--uploads', 1, 1000), 40)
    .option('--kills <n>', 'kill -9 rounds during the uploads', count('--kills', 0, 100), 8)
    .option('--lock-ms <n>', 'how long the write lock is held', count('--lock-ms', 0, 60_000), 3000)
    .option('--lost-responses <p>', 'share of answers thrown away after the server committed', (v) => Number(v), 0.05)
    .option('--seed <n>', 'random seed', count('--seed', 0, 2 ** 31), 20)
    .option('--max-seconds <n>', 'give up (and fail) after this long', count('--max-seconds', 10, 3600), 300)
    .option('--keep', 'keep the temp folder (database, token file)')
    // For the command's own test: deletes one acknowledged chunk's rows before the check, which must then fail.
    .addOption(new Option('--simulate-loss').hideHelp())
    .parse()
    .opts();
  const started = Date.now();
  const deadline = started + o.maxSeconds * 1000;
  const rand = seededRandom(o.seed);
  const figures: Figures = {
    accepted: 0, duplicates: 0, conflicts: 0, retries: 0, lockRefusals: 0, serverErrors: 0, unexpectedRejections: [], killRounds: 0,
    badInputs: 0, badInputsRefused: 0, badInputFailures: [], sessions: 0, chunks: 0, acknowledged: 0, lost: 0, undelivered: 0, mismatchedSessions: 0, crashes: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'halfface-reliability-'));
  const db = join(dir, 'study.sqlite');
  const tokenFile = join(dir, 'study.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let server = await startServer(db, tokenFile, port, figures);
  const clients: Client[] = [];
  try {
    // 1 + 2: parallel clients, with the server killed under them
    const first = Array.from({ length: o.clients }, (_, i) => makeClient(endpoint, `C${i}`, o.uploads, rand, figures, o.lostResponses));
    clients.push(...first);
    let uploading = true;
    const uploads = runClients(first, deadline).finally(() => { uploading = false; });
    for (let round = 0; round < o.kills && uploading && Date.now() < deadline; round++) {
      await sleep(150 + rand() * 500);
      if (!uploading) break;
      await stopServer(server, 'SIGKILL');
      figures.killRounds++;
      await sleep(50 + rand() * 250);
      server = await startServer(db, tokenFile, port, figures);
    }
    await uploads;
    await sendConflicts(first, figures);

    // 3: more sessions upload while another connection holds the write lock
    const locked = Array.from({ length: Math.min(o.clients, 5) }, (_, i) => makeClient(endpoint, `L${i}`, Math.min(o.uploads, 5), rand, figures, 0));
    clients.push(...locked);
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const lockedUploads = runClients(locked, deadline);
    await sleep(o.lockMs);
    holder.exec('ROLLBACK');
    holder.close();
    await lockedUploads;

    // 4: the bad-input corpus, last: its wrong tokens count towards this address's lockout
    await runBadInputs(endpoint, port, first[0].chunks[0], figures);
  } catch (e) {
    figures.crashes.push(`reliability run: ${(e as Error).message}`);
  } finally {
    await stopServer(server, 'SIGTERM');
  }
  if (o.simulateLoss) {
    const victim = clients[0]?.chunks.find((c) => clients[0].acknowledged.has(c.uploadId));
    const raw = new Database(db);
    if (victim) raw.prepare('DELETE FROM samples WHERE session_id = ? AND seq = ?').run(victim.session.sessionId, victim.seq);
    raw.close();
  }
  verify(db, clients, figures);
  if (o.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });

  const seconds = (Date.now() - started) / 1000;
  const rows: [string, string | number][] = [
    ['clients × chunks', `${o.clients} × ${o.uploads} (+ ${Math.min(o.clients, 5)} × ${Math.min(o.uploads, 5)} under the lock)`],
    ['kill -9 rounds', figures.killRounds],
    ['accepted (201)', figures.accepted],
    ['duplicates (200)', figures.duplicates],
    ['conflicts (409)', figures.conflicts],
    ['retries', figures.retries],
    ['503 while locked', figures.lockRefusals],
    ['other 5xx', figures.serverErrors],
    ['bad inputs refused (4xx)', `${figures.badInputsRefused} / ${figures.badInputs}`],
    ['chunks acknowledged', `${figures.acknowledged} / ${figures.chunks}`],
    ['lost', figures.lost],
    ['undelivered', figures.undelivered],
    ['sessions read back differing', `${figures.mismatchedSessions} / ${figures.sessions}`],
    ['seconds', seconds.toFixed(1)],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(30)} ${v}`);
  const problems = [
    ...figures.crashes,
    ...figures.unexpectedRejections.slice(0, 10).map((r) => `unexpected answer: ${r}`),
    ...figures.badInputFailures.map((b) => `bad input not refused: ${b}`),
    ...(figures.lost ? [`${figures.lost} acknowledged chunk(s) lost`] : []),
    ...(figures.undelivered ? [`${figures.undelivered} chunk(s) never acknowledged before the deadline`] : []),
    ...(figures.mismatchedSessions ? [`${figures.mismatchedSessions} session(s) differ from what was recorded`] : []),
    ...(figures.serverErrors ? [`${figures.serverErrors} 5xx answer(s) other than 503 for the held lock`] : []),
    ...(figures.conflicts !== o.clients ? [`${figures.conflicts} of ${o.clients} changed chunks answered 409`] : []),
  ];
  if (problems.length) {
    for (const p of problems) console.error(`FAIL: ${p}`);
    process.exit(1);
  }
  console.log('ok: nothing lost');
}

main().catch((e: Error) => {
  console.error(`error: ${e.stack ?? e.message}`);
  process.exit(1);
});
