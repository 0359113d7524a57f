/**
 * The research recording's data model: plain JSON-safe data, shared by the browser recorder,
 * the upload queue, the collection server (tools/collect) and the exports. No DOM, no tfjs.
 */
import type { Expression } from '../core/labels.js';

/** The VRM 1.0 presets the tracker reports (src/core/blendshapes.ts VRM_PRESETS). */
export type VrmWeights = Record<'happy' | 'angry' | 'sad' | 'relaxed' | 'surprised' | 'neutral', number>;

/**
 * One tracked frame, the fields of the tracker's TrackResult a study keeps. A TrackResult is
 * assignable to it as is (extra fields are dropped by the recorder).
 */
export interface ExpressionSample {
  /** the tracker's frame clock (performance.now() in the browser) */
  timestampMs: number;
  /** smoothed, calibrated class probabilities */
  probabilities: Record<Expression, number>;
  label: Expression;
  confidence: number;
  /** ARKit blendshape weights, 0..1 */
  blendshapes: Partial<Record<string, number>>;
  vrm: VrmWeights;
}

/** A sample as stored: time relative to the session start, and an image only when the study opted in. */
export interface RecordedSample extends ExpressionSample {
  /** ms since the session started (timestampMs − session clock origin) */
  tMs: number;
  /** data: URL of the camera crop; present only when SessionInfo.recordImages is true */
  image?: string;
}

export type MarkerSource = 'controller' | 'keyboard' | 'api';

/** Something that happened during the session: a stimulus onset, a button press, a phase change. */
export interface EventMarker {
  tMs: number;
  label: string;
  source: MarkerSource;
  /** free text (e.g. which button, which stimulus file) */
  detail?: string;
}

export interface SliderItem {
  kind: 'slider';
  id: string;
  prompt: string;
  min: number;
  max: number;
  /** answers must be min + k·step; absent = any value in range */
  step?: number;
  minLabel?: string;
  maxLabel?: string;
}

export interface LikertItem {
  kind: 'likert';
  id: string;
  prompt: string;
  /** answers are integers 1..points */
  points: number;
  /** one label per point, or just the two ends */
  anchors?: string[];
}

export type QuestionItem = SliderItem | LikertItem;

export interface Questionnaire {
  id: string;
  title: string;
  items: QuestionItem[];
}

export interface QuestionnaireResponse {
  /** when it was submitted, ms since session start */
  tMs: number;
  questionnaireId: string;
  /** item id → answer */
  answers: Record<string, number>;
}

export interface SessionInfo {
  /** client-generated, unique (a UUID): the server keys everything on it */
  sessionId: string;
  participantId: string;
  condition: string;
  /** wall-clock start, ISO 8601 */
  startedAt: string;
  /** the tracker clock's value at the start: tMs = timestampMs − clockOriginMs */
  clockOriginMs: number;
  /** camera crops are stored with the samples; false unless the researcher opted in */
  recordImages: boolean;
  /** free metadata: input device, model URL, app version */
  meta?: Record<string, string>;
}

/** A whole session as the recorder holds it, the JSON export, and what the server reassembles. */
export interface Recording {
  format: 'halfface-recording';
  version: 1;
  session: SessionInfo;
  /** wall-clock end, ISO 8601; null while recording */
  endedAt: string | null;
  samples: RecordedSample[];
  markers: EventMarker[];
  questionnaires: Questionnaire[];
  responses: QuestionnaireResponse[];
}

/**
 * One upload to the collection server: a consecutive slice of one session. uploadId is generated
 * once on the client and reused on every retry (the server stores it, so a retry is recognised);
 * seq numbers the chunks of a session 0, 1, 2… (the server refuses a different upload claiming a
 * taken seq).
 */
export interface UploadChunk {
  uploadId: string;
  seq: number;
  session: SessionInfo;
  samples: RecordedSample[];
  markers: EventMarker[];
  questionnaires: Questionnaire[];
  responses: QuestionnaireResponse[];
  /** set on the session's last chunk */
  endedAt?: string;
}
