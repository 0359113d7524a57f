/**
 * Where research recording plugs in. The scene's record button and the desktop button call
 * start/stop; while recording, every tracker result is pushed. The recorder itself (timestamped
 * stream, markers, CSV/JSON export) lives elsewhere and is attached with controller.setRecorder().
 */
import type { TrackResult } from '../../tracker/index.js';
import type { InputInfo } from './store.js';

export interface RecordingContext {
  input: InputInfo | null;
  /** performance.now() at start, the clock TrackResult.timestampMs uses */
  startedAtMs: number;
}

export interface ExpressionRecorder {
  start(context: RecordingContext): void | Promise<void>;
  push(result: TrackResult): void;
  stop(): void | Promise<void>;
}
