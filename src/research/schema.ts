/**
 * JSON Schema (draft 2020-12 subset that ajv compiles) of one upload chunk (types.ts UploadChunk).
 * Plain data, so the collection server validates with exactly what the client is typed against.
 * Rules a schema cannot say (real calendar dates, time order, images only with opt-in, questionnaires
 * and answers valid by questionnaire.ts, well-formed text) are checked by the server after this
 * (tools/collect/checks.ts).
 */
import { EXPRESSIONS } from '../core/labels.js';

/** Most samples one chunk may carry (the recorder's chunks default to 1000). */
export const MAX_CHUNK_SAMPLES = 5000;
/** A camera crop as a data: URL; 48×48 PNGs are ~3 kB, a generous cap for larger crops. */
export const MAX_IMAGE_CHARS = 262_144;

const id = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } as const;
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const num = { type: 'number' } as const;
/** Longest session a time may lie in, ms since its start: a week; anything later is a broken clock. */
export const MAX_SESSION_MS = 7 * 24 * 3600 * 1000;
/** Session time (tMs): not before the start, not past MAX_SESSION_MS. */
const sessionTime = { type: 'number', minimum: 0, maximum: MAX_SESSION_MS } as const;
/**
 * A tracker clock reading (performance.now(), a video time, even Date.now()): non-negative and
 * below 1e13 ms (~300 years), so differences of two of them are exact to well under a millisecond.
 */
const clockMs = { type: 'number', minimum: 0, maximum: 1e13 } as const;
/** ISO 8601 as Date.prototype.toISOString writes it (no ajv-formats needed). */
const isoTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$' } as const;
const unit = { type: 'number', minimum: -1e-6, maximum: 1 + 1e-6 } as const;

const vrmKeys = ['happy', 'angry', 'sad', 'relaxed', 'surprised', 'neutral'];

const sample = {
  type: 'object',
  additionalProperties: false,
  required: ['tMs', 'timestampMs', 'probabilities', 'label', 'confidence', 'blendshapes', 'vrm'],
  properties: {
    tMs: sessionTime,
    timestampMs: clockMs,
    probabilities: {
      type: 'object', additionalProperties: false, required: [...EXPRESSIONS],
      properties: Object.fromEntries(EXPRESSIONS.map((e) => [e, unit])),
    },
    label: { enum: [...EXPRESSIONS] },
    confidence: unit,
    blendshapes: {
      type: 'object', maxProperties: 128,
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' },
      additionalProperties: unit,
    },
    vrm: {
      type: 'object', additionalProperties: false, required: vrmKeys,
      properties: Object.fromEntries(vrmKeys.map((k) => [k, unit])),
    },
    image: { type: 'string', maxLength: MAX_IMAGE_CHARS, pattern: '^data:image/(png|jpeg|webp);base64,' },
  },
} as const;

const marker = {
  type: 'object', additionalProperties: false, required: ['tMs', 'label', 'source'],
  properties: { tMs: sessionTime, label: text(200), source: { enum: ['controller', 'keyboard', 'api'] }, detail: { type: 'string', maxLength: 2000 } },
} as const;

const item = {
  oneOf: [
    {
      type: 'object', additionalProperties: false, required: ['kind', 'id', 'prompt', 'min', 'max'],
      properties: {
        kind: { const: 'slider' }, id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, prompt: text(500),
        min: num, max: num, step: { type: 'number', exclusiveMinimum: 0 }, minLabel: { type: 'string', maxLength: 100 }, maxLabel: { type: 'string', maxLength: 100 },
      },
    },
    {
      type: 'object', additionalProperties: false, required: ['kind', 'id', 'prompt', 'points'],
      properties: {
        kind: { const: 'likert' }, id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, prompt: text(500),
        points: { type: 'integer', minimum: 2, maximum: 11 }, anchors: { type: 'array', maxItems: 11, items: { type: 'string', maxLength: 100 } },
      },
    },
  ],
} as const;

const questionnaire = {
  type: 'object', additionalProperties: false, required: ['id', 'title', 'items'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, title: text(500), items: { type: 'array', minItems: 1, maxItems: 50, items: item } },
} as const;

const response = {
  type: 'object', additionalProperties: false, required: ['tMs', 'questionnaireId', 'answers'],
  properties: {
    tMs: sessionTime, questionnaireId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    answers: { type: 'object', maxProperties: 50, additionalProperties: num },
  },
} as const;

const session = {
  type: 'object', additionalProperties: false,
  required: ['sessionId', 'participantId', 'condition', 'startedAt', 'clockOriginMs', 'recordImages'],
  properties: {
    sessionId: id, participantId: text(200), condition: text(200),
    startedAt: isoTime, clockOriginMs: clockMs, recordImages: { type: 'boolean' },
    meta: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 2000 } },
  },
} as const;

export const UPLOAD_CHUNK_SCHEMA = {
  $id: 'https://halfface.local/schemas/upload-chunk-v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['uploadId', 'seq', 'session', 'samples', 'markers', 'questionnaires', 'responses'],
  properties: {
    uploadId: id,
    seq: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    session,
    samples: { type: 'array', maxItems: MAX_CHUNK_SAMPLES, items: sample },
    markers: { type: 'array', maxItems: 10_000, items: marker },
    questionnaires: { type: 'array', maxItems: 100, items: questionnaire },
    responses: { type: 'array', maxItems: 1000, items: response },
    endedAt: isoTime,
  },
} as const;
