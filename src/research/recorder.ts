/**
 * The research recorder: one session (participant, condition), the timestamped expression stream,
 * event markers and questionnaire answers, kept in memory as a Recording and handed out in upload
 * chunks. Pure: no DOM, no storage, no network (see uploader.ts and browser.ts for those).
 *
 *   const rec = new ResearchRecorder({ participantId: 'P07', condition: 'VR-first' });
 *   rec.start({ startedAtMs: performance.now() });
 *   rec.push(trackResult);                 // every tracker result
 *   rec.mark('stimulus-3', 'keyboard');    // events
 *   rec.respond('valence-arousal', { valence: 6.5, arousal: 3 });
 *   rec.stop();
 *   const text = recordingToJson(rec.recording());
 *
 * It satisfies the app's ExpressionRecorder interface (start / push / stop), so the scene's record
 * button can drive it directly.
 */
import { EXPRESSIONS } from '../core/labels.js';
import { newId } from './ids.js';
import { MAX_SESSION_MS } from './schema.js';
import { answerProblems, questionnaireProblems, VALENCE_AROUSAL } from './questionnaire.js';
import type {
  EventMarker, ExpressionSample, MarkerSource, Questionnaire, QuestionnaireResponse, RecordedSample, Recording, SessionInfo, UploadChunk,
} from './types.js';

export class RecorderError extends Error {
  constructor(message: string, readonly problems: string[] = []) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message);
    this.name = 'RecorderError';
  }
}

export interface RecorderOptions {
  participantId: string;
  condition: string;
  /** Store camera crops with the samples. Off unless a study explicitly needs them (ethics approval, consent). */
  recordImages?: boolean;
  /** questionnaires this session may show (default: valence/arousal) */
  questionnaires?: Questionnaire[];
  meta?: Record<string, string>;
  /** clocks and ids, injectable for tests */
  now?: () => Date;
  newId?: () => string;
}

export interface StartContext {
  /** the tracker clock (performance.now()) at the start */
  startedAtMs: number;
}

const MARKER_SOURCES: readonly MarkerSource[] = ['controller', 'keyboard', 'api'];

function checkLabel(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new RecorderError(`${name} must be a non-empty string`);
  if (value.length > 200) throw new RecorderError(`${name} is longer than 200 characters`);
  return value;
}

/**
 * A tracker-clock time must lie inside the session (0..MAX_SESSION_MS after its start): the
 * collection server refuses anything else, so it is refused here, while the app can still say so.
 */
function checkSessionTime(name: string, atMs: number, originMs: number): void {
  const tMs = atMs - originMs;
  if (!(tMs >= 0)) throw new RecorderError(`${name} ${atMs} is before the session started (${originMs})`);
  if (tMs > MAX_SESSION_MS) throw new RecorderError(`${name} ${atMs} is more than ${MAX_SESSION_MS} ms after the session started`);
}

/** Copies the fields a study keeps and rejects values that would poison the data (NaN, missing classes). */
function toSample(sample: ExpressionSample, tMs: number, image: string | undefined): RecordedSample {
  if (!sample || typeof sample !== 'object') throw new RecorderError('push() needs a tracker result');
  if (!Number.isFinite(sample.timestampMs)) throw new RecorderError(`timestampMs must be finite, got ${sample.timestampMs}`);
  const problems: string[] = [];
  const probabilities = {} as RecordedSample['probabilities'];
  for (const e of EXPRESSIONS) {
    const p = sample.probabilities?.[e];
    if (typeof p !== 'number' || !Number.isFinite(p)) problems.push(`probability of ${e} is ${p}`);
    probabilities[e] = p;
  }
  if (!EXPRESSIONS.includes(sample.label)) problems.push(`label ${JSON.stringify(sample.label)} is not an expression`);
  if (!Number.isFinite(sample.confidence)) problems.push(`confidence is ${sample.confidence}`);
  const blendshapes: Record<string, number> = {};
  for (const [k, v] of Object.entries(sample.blendshapes ?? {})) {
    if (v === undefined) continue;
    if (!Number.isFinite(v)) problems.push(`blendshape ${k} is ${v}`);
    blendshapes[k] = v;
  }
  const vrm = { ...sample.vrm };
  for (const k of ['happy', 'angry', 'sad', 'relaxed', 'surprised', 'neutral'] as const) {
    if (!Number.isFinite(vrm[k])) problems.push(`vrm ${k} is ${vrm[k]}`);
  }
  if (problems.length) throw new RecorderError('the sample is not usable', problems);
  const out: RecordedSample = {
    tMs, timestampMs: sample.timestampMs, probabilities, label: sample.label, confidence: sample.confidence, blendshapes, vrm,
  };
  if (image !== undefined) out.image = image;
  return out;
}

export class ResearchRecorder {
  private session: SessionInfo | null = null;
  private endedAt: string | null = null;
  private readonly samples: RecordedSample[] = [];
  private readonly markers: EventMarker[] = [];
  private readonly responses: QuestionnaireResponse[] = [];
  private readonly questionnaires = new Map<string, Questionnaire>();
  /** how much of each list is already in a chunk */
  private sent = { samples: 0, markers: 0, responses: 0, questionnaires: 0 };
  private nextSeq = 0;
  private finalTaken = false;
  private lastTimestampMs = -Infinity;
  private readonly now: () => Date;
  private readonly makeId: () => string;

  constructor(private readonly options: RecorderOptions) {
    checkLabel('participantId', options?.participantId);
    checkLabel('condition', options.condition);
    this.now = options.now ?? (() => new Date());
    this.makeId = options.newId ?? newId;
    for (const q of options.questionnaires ?? [VALENCE_AROUSAL]) this.addQuestionnaire(q);
  }

  /** true between start() and stop() */
  get isRecording(): boolean {
    return this.session !== null && this.endedAt === null;
  }

  get sessionInfo(): SessionInfo | null {
    return this.session;
  }

  /** Starts the session. The tracker clock value at the start makes every tMs relative to it. */
  start(context: StartContext): void {
    if (this.session) throw new RecorderError('this recorder already ran a session; make a new one per session');
    if (!Number.isFinite(context?.startedAtMs)) throw new RecorderError(`startedAtMs must be finite, got ${context?.startedAtMs}`);
    this.session = {
      sessionId: this.makeId(),
      participantId: this.options.participantId,
      condition: this.options.condition,
      startedAt: this.now().toISOString(),
      clockOriginMs: context.startedAtMs,
      recordImages: this.options.recordImages === true,
      ...(this.options.meta ? { meta: { ...this.options.meta } } : {}),
    };
  }

  private active(): SessionInfo {
    if (!this.session) throw new RecorderError('the session has not started');
    if (this.endedAt !== null) throw new RecorderError('the session has ended');
    return this.session;
  }

  /**
   * Adds one tracker result (a TrackResult works as is). `image` (a data: URL of the crop) is kept
   * only when the session opted in to images; otherwise it is dropped here, never stored.
   * Results older than the last one are rejected: the stream stays in time order.
   */
  push(sample: ExpressionSample, image?: string): void {
    const session = this.active();
    if (sample?.timestampMs < this.lastTimestampMs) {
      throw new RecorderError(`timestampMs went backwards (${sample.timestampMs} after ${this.lastTimestampMs})`);
    }
    checkSessionTime('timestampMs', sample?.timestampMs, session.clockOriginMs);
    const keep = session.recordImages && typeof image === 'string' ? image : undefined;
    this.samples.push(toSample(sample, sample.timestampMs - session.clockOriginMs, keep));
    this.lastTimestampMs = sample.timestampMs;
  }

  /** An event marker at tracker-clock time `atMs` (default: the latest sample's time, else the start). */
  mark(label: string, source: MarkerSource = 'api', detail?: string, atMs?: number): EventMarker {
    const session = this.active();
    checkLabel('marker label', label);
    if (!MARKER_SOURCES.includes(source)) throw new RecorderError(`marker source must be one of ${MARKER_SOURCES.join(', ')}, got ${source}`);
    if (detail !== undefined && typeof detail !== 'string') throw new RecorderError('marker detail must be a string');
    const at = atMs ?? (Number.isFinite(this.lastTimestampMs) ? this.lastTimestampMs : session.clockOriginMs);
    if (!Number.isFinite(at)) throw new RecorderError(`marker time must be finite, got ${atMs}`);
    checkSessionTime('marker time', at, session.clockOriginMs);
    const marker: EventMarker = { tMs: at - session.clockOriginMs, label, source, ...(detail !== undefined ? { detail } : {}) };
    this.markers.push(marker);
    return marker;
  }

  addQuestionnaire(q: Questionnaire): void {
    const problems = questionnaireProblems(q);
    if (problems.length) throw new RecorderError(`questionnaire ${q?.id} is not valid`, problems);
    const existing = this.questionnaires.get(q.id);
    if (existing && JSON.stringify(existing) !== JSON.stringify(q)) throw new RecorderError(`a different questionnaire ${q.id} is already registered`);
    this.questionnaires.set(q.id, structuredClone(q));
  }

  questionnaire(id: string): Questionnaire | undefined {
    return this.questionnaires.get(id);
  }

  /** Stores validated answers; throws RecorderError listing every problem otherwise. */
  respond(questionnaireId: string, answers: Record<string, number>, atMs?: number): QuestionnaireResponse {
    const session = this.active();
    const q = this.questionnaires.get(questionnaireId);
    if (!q) throw new RecorderError(`unknown questionnaire ${questionnaireId}`);
    const problems = answerProblems(q, answers);
    if (problems.length) throw new RecorderError(`answers to ${questionnaireId} are not valid`, problems);
    const at = atMs ?? (Number.isFinite(this.lastTimestampMs) ? this.lastTimestampMs : session.clockOriginMs);
    checkSessionTime('response time', at, session.clockOriginMs);
    const response: QuestionnaireResponse = { tMs: at - session.clockOriginMs, questionnaireId, answers: { ...answers } };
    this.responses.push(response);
    return response;
  }

  stop(): void {
    this.active();
    this.endedAt = this.now().toISOString();
  }

  /** A snapshot of the whole session (deep copy: later pushes do not change it). */
  recording(): Recording {
    if (!this.session) throw new RecorderError('the session has not started');
    return structuredClone({
      format: 'halfface-recording',
      version: 1,
      session: this.session,
      endedAt: this.endedAt,
      samples: this.samples,
      markers: this.markers,
      questionnaires: [...this.questionnaires.values()],
      responses: this.responses,
    });
  }

  /**
   * The next upload: what was recorded since the previous chunk, at most `maxSamples` samples
   * (null when there is nothing new). After stop(), the last chunk carries endedAt, even with no rows.
   */
  takeChunk(maxSamples = DEFAULT_CHUNK_SAMPLES): UploadChunk | null {
    const session = this.session;
    if (!session || this.finalTaken) return null;
    if (!(Number.isInteger(maxSamples) && maxSamples > 0)) throw new RecorderError(`maxSamples must be a positive integer, got ${maxSamples}`);
    const questionnaires = [...this.questionnaires.values()];
    const samples = this.samples.slice(this.sent.samples, this.sent.samples + maxSamples);
    const fresh = {
      samples,
      markers: this.markers.slice(this.sent.markers),
      responses: this.responses.slice(this.sent.responses),
      questionnaires: questionnaires.slice(this.sent.questionnaires),
    };
    const isFinal = this.endedAt !== null && this.sent.samples + samples.length === this.samples.length;
    const empty = !samples.length && !fresh.markers.length && !fresh.responses.length && !fresh.questionnaires.length;
    if (empty && !isFinal) return null;
    const chunk: UploadChunk = structuredClone({
      uploadId: this.makeId(),
      seq: this.nextSeq++,
      session,
      ...fresh,
      ...(isFinal ? { endedAt: this.endedAt! } : {}),
    });
    this.sent = {
      samples: this.sent.samples + samples.length,
      markers: this.markers.length,
      responses: this.responses.length,
      questionnaires: questionnaires.length,
    };
    this.finalTaken = isFinal;
    return chunk;
  }
}

/** Samples per upload chunk: ~1.5 kB each as JSON, so a chunk stays well under the server's body limit. */
export const DEFAULT_CHUNK_SAMPLES = 1000;
