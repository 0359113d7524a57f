/**
 * A stand-in for the tracker's inference engine (ExpressionTracker.fromEngine): no model, no GPU,
 * no browser. Each run() answers with `raw` at once, unless the test holds it or makes it fail.
 */
import { EXPRESSIONS, NUM_CLASSES, type Expression } from '../../src/core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../../src/core/mouth-blendshapes.js';
import type { EngineHandle, EngineOutput, EngineStats } from '../../src/tracker/index.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void, reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Class probabilities from a few named ones; the rest share what is left. */
export function probabilities(named: Partial<Record<Expression, number>>): Float32Array {
  const given = Object.values(named).reduce((a, b) => a + (b ?? 0), 0);
  const others = EXPRESSIONS.filter((e) => !(e in named));
  return Float32Array.from(EXPRESSIONS, (e) => named[e] ?? (1 - given) / others.length);
}

export class FakeEngine implements EngineHandle {
  inWorker = false;
  raw: Float32Array = probabilities({ neutral: 0.7 });
  /** the mouth head's answer (MOUTH_BLENDSHAPES order); null: a model without the head */
  mouth: Float32Array | null = null;
  runs = 0;
  recoveries = 0;
  disposed = 0;
  /** set: run() waits for it, then answers (or fails) as it says */
  held: Deferred<void> | null = null;
  /** set: the next run() rejects with it (once) */
  failNext: Error | null = null;
  /** set: recover() waits for it */
  recovery: Deferred<void> | null = null;

  hold(): Deferred<void> {
    this.held = deferred<void>();
    return this.held;
  }

  async run(): Promise<EngineOutput> {
    this.runs++;
    const held = this.held;
    this.held = null;
    if (held) await held.promise;
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    if (this.raw.length !== NUM_CLASSES) throw new Error('FakeEngine.raw needs one probability per class');
    if (this.mouth && this.mouth.length !== NUM_MOUTH_BLENDSHAPES) throw new Error('FakeEngine.mouth needs one weight per mouth blendshape');
    return { raw: this.raw.slice(), mouth: this.mouth?.slice() ?? null, roi: { x: 0, y: 0, width: 1, height: 1 }, roiSource: 'full', preprocessMs: 1, inferenceMs: 2 };
  }

  async recover(): Promise<void> {
    this.recoveries++;
    if (this.recovery) await this.recovery.promise;
  }

  async loseContext(): Promise<boolean> {
    return true;
  }

  async stats(): Promise<EngineStats> {
    return { backend: 'fake', numTensors: 0, numBytes: 0, contextRecoveries: this.recoveries };
  }

  dispose(): void {
    this.disposed++;
  }
}
