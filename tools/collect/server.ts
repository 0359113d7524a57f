/**
 * The collection server: headsets POST upload chunks (src/research/uploader.ts) to /v1/uploads
 * with the study's bearer token; each is size-limited, schema-validated, checked and stored in one
 * transaction (store.ts). node:http only, loopback by default.
 *
 * Status codes the uploader relies on: 201 stored, 200 duplicate (already stored: done), 400 invalid,
 * 401 token, 409 conflict, 413 too large; anything 5xx is retried (503 + Retry-After: the database
 * is locked by another process).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { UPLOAD_CHUNK_SCHEMA } from '../../src/research/schema.js';
import type { UploadChunk } from '../../src/research/types.js';
import { UPLOAD_PATH } from '../../src/research/uploader.js';
import { chunkProblems } from './checks.js';
import { ConflictError, type StudyStore } from './store.js';

/** Default request body limit: a 1000-sample chunk is ~1.5 MB of JSON. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface StudyToken {
  studyId: string;
  token: string;
}

/** Least strength of a token, bits (the guessing is rate-limited too, but only per address). */
export const MIN_TOKEN_BITS = 128;

/**
 * Rough strength of a token, bits: length × log2 of the alphabet its characters suggest (hex, or
 * the letters, digits and symbols present). A token of fewer than 8 distinct characters ("aaaa…")
 * is scored by its variety instead, so repeating a character does not make a token strong.
 */
export function tokenBits(token: string): number {
  const distinct = new Set(token).size;
  if (distinct < 8) return token.length * Math.log2(Math.max(distinct, 1));
  if (/^[0-9a-f]+$/i.test(token)) return token.length * 4;
  const pool = (/[a-z]/.test(token) ? 26 : 0) + (/[A-Z]/.test(token) ? 26 : 0) + (/[0-9]/.test(token) ? 10 : 0) + (/[^A-Za-z0-9]/.test(token) ? 32 : 0);
  return token.length * Math.log2(pool);
}

/**
 * Token file: one study per line, "<studyId> <token>", or just "<token>" for a single study named
 * "default". Blank lines and lines starting with # are ignored. Tokens need MIN_TOKEN_BITS (32 hex
 * digits; `new-token` makes 64), and a token names one study only.
 */
export function parseTokenFile(text: string): StudyToken[] {
  const tokens: StudyToken[] = [];
  const lines = new Map<string, { line: number; studyId: string }>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('> ')) {
      throw new Error(`token file line ${i + 1} is npm's banner ("${line.slice(0, 40)}"), not a token: \`npm run collect -- new-token > FILE\` captures it. Make the file with \`npm run collect -- new-token --out FILE\``);
    }
    const parts = line.split(/\s+/);
    if (parts.length > 2) throw new Error(`token file line ${i + 1}: expected "<studyId> <token>" or "<token>"`);
    const [studyId, token] = parts.length === 2 ? parts : ['default', parts[0]];
    const bits = tokenBits(token);
    if (bits < MIN_TOKEN_BITS) {
      throw new Error(`token file line ${i + 1}: the token has about ${Math.round(bits)} bits; tokens need ${MIN_TOKEN_BITS} (make one with: npm run collect -- new-token)`);
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(studyId)) throw new Error(`token file line ${i + 1}: study id must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    // A token is what files an upload under its study; shared, it could not say which.
    const same = lines.get(token);
    if (same) throw new Error(`token file line ${i + 1}: the same token as line ${same.line} (study ${same.studyId}); each study needs its own token`);
    lines.set(token, { line: i + 1, studyId });
    tokens.push({ studyId, token });
  });
  if (tokens.length === 0) throw new Error('the token file holds no token');
  return tokens;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The study whose token the request carries, or null. Compared in constant time (hashes: equal lengths). */
function studyFor(req: IncomingMessage, tokens: readonly StudyToken[]): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) return null;
  const given = digest(match[1]);
  let found: string | null = null;
  for (const t of tokens) if (timingSafeEqual(given, digest(t.token))) found = t.studyId;
  return found;
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(payload)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');
}

export interface CollectServerOptions {
  store: StudyStore;
  tokens: StudyToken[];
  host?: string;
  port?: number;
  maxBodyBytes?: number;
  /** Access-Control-Allow-Origin (default *: auth is a bearer token, not a cookie) */
  allowOrigin?: string;
  /** failed tokens one client address may send within authWindowMs before it is refused with 429 (default 10 per minute) */
  authFailureLimit?: number;
  authWindowMs?: number;
  /** how long an upload waits for a write lock held by another process before 503 (default LOCK_WAIT_MS) */
  lockWaitMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * Failed-token bookkeeping per client address: after `limit` failures within `windowMs` of the
 * first, the address is refused (429) until that window ends, whatever token it sends. Bounded:
 * stale entries are dropped, and at most `maxAddresses` are tracked (the oldest go first).
 */
export class AuthLimiter {
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(private readonly limit: number, private readonly windowMs: number, private readonly maxAddresses = 10_000) {}

  /** Milliseconds until the address may try again; 0 when it may now. */
  lockedForMs(address: string, now: number): number {
    const entry = this.failures.get(address);
    if (!entry || now - entry.since >= this.windowMs) return 0;
    return entry.count >= this.limit ? entry.since + this.windowMs - now : 0;
  }

  fail(address: string, now: number): void {
    const entry = this.failures.get(address);
    if (entry && now - entry.since < this.windowMs) {
      entry.count++;
      return;
    }
    this.failures.delete(address);
    for (const [key, e] of this.failures) if (now - e.since >= this.windowMs) this.failures.delete(key);
    while (this.failures.size >= this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { since: now, count: 1 });
  }
}

/** How long one upload keeps retrying a write lock another process holds before answering 503. */
export const LOCK_WAIT_MS = 2000;

const isLockError = (e: unknown) => {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/**
 * Runs a write, retrying while another process holds the database lock. better-sqlite3 waits for a
 * lock synchronously (its busy timeout), which would stop every other request, health checks too;
 * so the server sets that timeout to 0 and waits here, between attempts, on the event loop.
 */
async function withLockRetry<T>(write: () => T, waitMs: number): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      return write();
    } catch (e) {
      if (!isLockError(e)) throw e;
      if (Date.now() + delay > deadline) {
        throw new HttpError(503, `the database is locked by another process (waited ${waitMs} ms); retry later`, { 'retry-after': '1' });
      }
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (part: Buffer) => {
      if (failed) return;
      size += part.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `the body is over the limit of ${limit} bytes`));
        return;
      }
      parts.push(part);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(parts)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
    req.on('aborted', () => { if (!failed) { failed = true; reject(new HttpError(400, 'the client aborted the upload')); } });
  });
}

export function createCollectServer(options: CollectServerOptions): Server {
  const { store, tokens } = options;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowOrigin = options.allowOrigin ?? '*';
  const log = options.log ?? (() => {});
  const lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  const limiter = new AuthLimiter(options.authFailureLimit ?? 10, options.authWindowMs ?? 60_000);
  // Never block the event loop on a lock: withLockRetry waits instead (see there).
  store.db.pragma('busy_timeout = 0');
  const ajv = new Ajv({ allErrors: false, strict: true });
  const validate = ajv.compile<UploadChunk>(UPLOAD_CHUNK_SCHEMA);

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'access-control-allow-origin': allowOrigin,
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    // A body we refused to read is drained, not cut off, so the client sees the status instead of a reset.
    if (!req.complete) req.resume();
  };

  async function upload(req: IncomingMessage, res: ServerResponse) {
    const client = req.socket.remoteAddress ?? 'unknown';
    const lockedMs = limiter.lockedForMs(client, Date.now());
    if (lockedMs > 0) {
      throw new HttpError(429, `too many failed token attempts from ${client}; retry in ${Math.ceil(lockedMs / 1000)} s`, { 'retry-after': String(Math.ceil(lockedMs / 1000)) });
    }
    const studyId = studyFor(req, tokens);
    if (!studyId) {
      limiter.fail(client, Date.now());
      throw new HttpError(401, 'missing or wrong bearer token for this study');
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'the body must be application/json');
    const body = await readBody(req, maxBody);
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `the body is not JSON: ${(e as Error).message}`);
    }
    if (!validate(payload)) throw new HttpError(400, `the upload does not match the schema: ${describe(validate.errors)}`);
    const chunk = payload;
    const problems = chunkProblems(chunk, await withLockRetry(() => store.questionnaires(chunk.session.sessionId), lockWaitMs));
    if (problems.length) throw new HttpError(400, `the upload is not consistent: ${problems.slice(0, 5).join('; ')}`);
    const result = await withLockRetry(() => store.storeChunk(studyId, chunk), lockWaitMs);
    log({ event: 'upload', client, studyId, sessionId: payload.session.sessionId, seq: payload.seq, uploadId: payload.uploadId, status: result.status });
    if (result.status === 'duplicate') send(req, res, 200, { status: 'duplicate', uploadId: payload.uploadId });
    else send(req, res, 201, { status: 'stored', uploadId: payload.uploadId, rows: result.rows });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    log({ event: 'request', client: req.socket.remoteAddress, method: req.method, path });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': allowOrigin,
        'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/v1/health') {
      send(req, res, 200, { status: 'ok' });
      return;
    }
    if (path !== UPLOAD_PATH) {
      send(req, res, 404, { error: `no such endpoint: ${req.method} ${path}` });
      return;
    }
    if (req.method !== 'POST') {
      send(req, res, 405, { error: `${UPLOAD_PATH} takes POST` });
      return;
    }
    upload(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof ConflictError ? 409 : 500;
      const message = (e as Error).message;
      log({ event: 'refused', client: req.socket.remoteAddress, status, error: message });
      if (!res.headersSent) send(req, res, status, { error: message }, e instanceof HttpError ? e.headers : {});
    });
  });
  server.requestTimeout = 60_000;
  return server;
}

/** Starts listening; resolves with the URL (the real port when port was 0). */
export function listen(server: Server, host = '127.0.0.1', port = 8787): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}
