/**
 * Upload queue → collection server, with retries. The recorder's chunks go into a durable queue
 * first (IndexedDB in the browser: browser.ts; memory in tests: MemoryUploadQueue), and leave it
 * only when the server has acknowledged them, so nothing is lost offline or when the server dies
 * mid-upload. Each chunk keeps the uploadId it was given at creation; the server recognises a retry
 * by it and stores the rows once.
 *
 * Network only through the injected fetch (global fetch by default): the same code runs in the
 * browser and, in the reliability tests, in Node against the real server.
 */
import type { UploadChunk } from './types.js';

export interface QueuedUpload {
  uploadId: string;
  chunk: UploadChunk;
  /** Date.now() when queued: the queue hands items out oldest first */
  queuedAt: number;
  attempts: number;
  /** 'rejected': the server refused it as invalid; kept (never dropped) but not retried */
  state: 'pending' | 'rejected';
  lastError?: string;
}

/** A durable FIFO of uploads. put() of an existing uploadId replaces it. */
export interface UploadQueue {
  put(item: QueuedUpload): Promise<void>;
  /** all items, oldest first */
  list(): Promise<QueuedUpload[]>;
  remove(uploadId: string): Promise<void>;
}

function byAge(a: QueuedUpload, b: QueuedUpload): number {
  return a.queuedAt - b.queuedAt || a.chunk.seq - b.chunk.seq;
}

/** In-memory queue: for tests and for apps that accept losing unsent data on reload. */
export class MemoryUploadQueue implements UploadQueue {
  private readonly items = new Map<string, QueuedUpload>();
  async put(item: QueuedUpload) { this.items.set(item.uploadId, structuredClone(item)); }
  async list() { return [...this.items.values()].map((i) => structuredClone(i)).sort(byAge); }
  async remove(uploadId: string) { this.items.delete(uploadId); }
}

export interface BackoffOptions {
  /** first retry delay, ms (default 500) */
  initialMs?: number;
  /** cap, ms (default 30 s) */
  maxMs?: number;
  /** growth per failed attempt (default 2) */
  factor?: number;
  /** 0..1: the delay is shortened by up to this fraction at random, so headsets do not retry in lockstep (default 0.5) */
  jitter?: number;
}

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelayMs(failures: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 500, maxMs = 30_000, factor = 2, jitter = 0.5 } = options;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, failures - 1));
  return base * (1 - jitter * random());
}

export type UploadOutcome =
  | { kind: 'stored'; uploadId: string }
  | { kind: 'duplicate'; uploadId: string }
  /** the server refused the payload (400, 409, 413): retrying the same bytes cannot succeed */
  | { kind: 'rejected'; uploadId: string; status: number; reason: string }
  /** wrong or missing token (401/403): nothing is retried until the token changes */
  | { kind: 'unauthorized'; status: number; reason: string }
  /** network error, timeout, 408/429/5xx: retried with backoff */
  | { kind: 'retry'; uploadId: string; reason: string };

export interface UploaderOptions {
  /** server base URL, e.g. http://127.0.0.1:8787 */
  endpoint: string;
  /** the study's bearer token */
  token: string;
  queue: UploadQueue;
  fetch?: typeof fetch;
  backoff?: BackoffOptions;
  /** a request that takes longer is abandoned and retried (default 20 s) */
  requestTimeoutMs?: number;
  random?: () => number;
  onOutcome?: (outcome: UploadOutcome) => void;
}

export type UploaderState = 'idle' | 'uploading' | 'waiting' | 'unauthorized' | 'stopped';

export const UPLOAD_PATH = '/v1/uploads';

export class Uploader {
  private readonly fetchFn: typeof fetch;
  private currentState: UploaderState = 'stopped';
  private failures = 0;
  private loopPromise: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private kicked = false;
  private stopping = false;
  private readonly url: string;

  constructor(private readonly options: UploaderOptions) {
    if (!options || typeof options.endpoint !== 'string') throw new Error('Uploader needs an endpoint URL');
    if (typeof options.token !== 'string' || options.token === '') throw new Error('Uploader needs the study token');
    this.url = new URL(UPLOAD_PATH, options.endpoint).href;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new Error('no fetch available: pass options.fetch');
    this.fetchFn = f.bind(globalThis);
  }

  get state(): UploaderState {
    return this.currentState;
  }

  /** Stores the chunk in the queue (durably, when the queue is) and nudges the loop. */
  async enqueue(chunk: UploadChunk): Promise<void> {
    await this.options.queue.put({ uploadId: chunk.uploadId, chunk, queuedAt: Date.now(), attempts: 0, state: 'pending' });
    this.wake();
  }

  /** Sends one queued upload and classifies the answer. */
  async send(item: QueuedUpload): Promise<UploadOutcome> {
    const { uploadId } = item;
    let response: Response;
    try {
      response = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(item.chunk),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 20_000),
      });
    } catch (e) {
      return { kind: 'retry', uploadId, reason: `network: ${(e as Error).message}` };
    }
    let body: { status?: string; error?: string } = {};
    try {
      body = await response.json();
    } catch {
      // A body cut off by a dying server: the status line decides.
    }
    const status = response.status;
    if (status === 200 || status === 201) return body.status === 'duplicate' ? { kind: 'duplicate', uploadId } : { kind: 'stored', uploadId };
    const reason = body.error ?? `HTTP ${status}`;
    if (status === 401 || status === 403) return { kind: 'unauthorized', status, reason };
    if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', uploadId, reason };
    return { kind: 'rejected', uploadId, status, reason };
  }

  /**
   * One pass over the queue, oldest first. Stops at the first retryable failure (the server is
   * probably unreachable, so the rest would fail too). Returns whether the queue is now clear of
   * pending uploads.
   */
  async flushOnce(): Promise<{ done: boolean; outcome: UploadOutcome | null }> {
    let last: UploadOutcome | null = null;
    for (const item of await this.options.queue.list()) {
      if (this.stopping) return { done: false, outcome: last };
      if (item.state !== 'pending') continue;
      const outcome = await this.send(item);
      last = outcome;
      this.options.onOutcome?.(outcome);
      if (outcome.kind === 'stored' || outcome.kind === 'duplicate') {
        await this.options.queue.remove(item.uploadId);
        this.failures = 0;
      } else if (outcome.kind === 'rejected') {
        await this.options.queue.put({ ...item, attempts: item.attempts + 1, state: 'rejected', lastError: outcome.reason });
      } else if (outcome.kind === 'retry') {
        await this.options.queue.put({ ...item, attempts: item.attempts + 1, lastError: outcome.reason });
        return { done: false, outcome };
      } else {
        return { done: false, outcome };
      }
    }
    return { done: true, outcome: last };
  }

  /** Starts the background loop: uploads whatever is queued, retries with backoff, idles when empty. */
  start(): void {
    if (this.loopPromise) return;
    this.stopping = false;
    this.currentState = 'idle';
    this.loopPromise = this.loop().finally(() => { this.loopPromise = null; });
  }

  /** Stops the loop after the request in flight (if any) settles; queued items stay queued. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopPromise;
    this.currentState = 'stopped';
  }

  /** Retry now (e.g. on the browser's 'online' event) instead of waiting out the backoff. */
  wake(): void {
    this.kicked = true;
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  /** Resolves when no pending upload is left (rejected ones stay for inspection); rejects on timeout. */
  async drained(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = (await this.options.queue.list()).filter((i) => i.state === 'pending');
      if (pending.length === 0) return;
      if (this.currentState === 'unauthorized') throw new Error('uploads stopped: the server refused the token');
      if (Date.now() > deadline) throw new Error(`${pending.length} upload(s) still pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wakeUp = null; resolve(); }, ms);
      this.wakeUp = () => { clearTimeout(timer); resolve(); };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.kicked = false;
      this.currentState = 'uploading';
      let result: Awaited<ReturnType<Uploader['flushOnce']>>;
      try {
        result = await this.flushOnce();
      } catch (e) {
        // The queue itself failed (storage quota, closed database): report and back off like a network error.
        result = { done: false, outcome: { kind: 'retry', uploadId: '', reason: `queue: ${(e as Error).message}` } };
      }
      if (this.stopping) break;
      if (result.outcome?.kind === 'unauthorized') {
        this.currentState = 'unauthorized';
        break;
      }
      if (result.done) {
        this.currentState = 'idle';
        if (!this.kicked) await this.sleep(IDLE_POLL_MS);
      } else {
        this.failures++;
        this.currentState = 'waiting';
        if (!this.kicked) await this.sleep(backoffDelayMs(this.failures, this.options.backoff, this.options.random));
      }
    }
  }
}

/** While idle the loop still looks at the queue now and then: another tab may have queued uploads. */
const IDLE_POLL_MS = 5_000;
