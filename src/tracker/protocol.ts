/** Messages between the tracker (main thread) and its worker. */
import type { EngineInit, EngineOutput, EngineStats } from './engine.js';
import type { LoadStage, TrackerErrorCode } from './types.js';

export type Request =
  | { id: number; type: 'init'; init: EngineInit }
  | { id: number; type: 'run'; frame: ImageBitmap | ImageData }
  | { id: number; type: 'recover' }
  | { id: number; type: 'lose-context' }
  | { id: number; type: 'stats' };

export type Reply =
  | { id: number; ok: true; value: EngineOutput | EngineStats | boolean | string | null }
  | { id: number; ok: false; code: TrackerErrorCode | null; message: string }
  /** not a reply: the init request's progress, any number of times before its reply */
  | { id: number; progress: LoadStage };

/** A request before the id is assigned. */
export type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
