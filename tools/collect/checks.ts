/**
 * What the upload schema (src/research/schema.ts) cannot say, checked after it: pure functions of
 * an already schema-valid chunk. Questionnaires and answers go through the same validators the
 * browser's recorder uses (src/research/questionnaire.ts), so the server refuses exactly what a
 * headset would have refused to record.
 */
import { answerProblems, questionnaireProblems } from '../../src/research/questionnaire.js';
import type { Questionnaire, UploadChunk } from '../../src/research/types.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored as text (SQLite, CSV and most tools cut at NUL or choke on lone surrogates), or null. */
function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'holds a NUL character';
  if (LONE_SURROGATE.test(text)) return 'holds a lone surrogate (not valid Unicode)';
  return null;
}

/** Every string and object key in the payload, by JSON pointer. */
export function textProblems(value: unknown, path = ''): string[] {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? [`${path || '(payload)'}: text ${problem}`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => textProblems(v, `${path}/${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const problem = textProblem(k);
      return problem ? [`${path || '(payload)'}: key ${JSON.stringify(k)} ${problem}`] : textProblems(v, `${path}/${k}`);
    });
  }
  return [];
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of an ISO 8601 time that names a real moment, or null. Date.parse
 * alone is not enough: it turns 2025-02-30 into 2 March and accepts hour 24.
 */
export function realTimeMs(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
  if (m[7] !== undefined && (Number(m[8]) > 14 || Number(m[9]) > 59)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/** Everything wrong with a schema-valid chunk; `stored` are the session's questionnaires from earlier uploads. */
export function chunkProblems(chunk: UploadChunk, stored: ReadonlyMap<string, Questionnaire>): string[] {
  const problems = textProblems(chunk);
  const started = realTimeMs(chunk.session.startedAt);
  if (started === null) problems.push(`/session/startedAt ${chunk.session.startedAt} is not a real date and time`);
  if (chunk.endedAt !== undefined) {
    const ended = realTimeMs(chunk.endedAt);
    if (ended === null) problems.push(`/endedAt ${chunk.endedAt} is not a real date and time`);
    else if (started !== null && ended < started) problems.push(`/endedAt ${chunk.endedAt} is before the session's startedAt ${chunk.session.startedAt}`);
  }
  // The recorder refuses frames older than the last one: a chunk out of time order was not recorded by it.
  chunk.samples.forEach((s, i) => {
    if (i > 0 && s.tMs < chunk.samples[i - 1].tMs) problems.push(`/samples/${i}: tMs ${s.tMs} is before the previous sample's ${chunk.samples[i - 1].tMs}`);
  });
  if (!chunk.session.recordImages && chunk.samples.some((s) => s.image !== undefined)) {
    problems.push('samples carry images but the session did not opt in to recording images');
  }
  chunk.questionnaires.forEach((q, i) => problems.push(...questionnaireProblems(q).map((p) => `/questionnaires/${i}: ${p}`)));
  const known = new Map(stored);
  for (const q of chunk.questionnaires) known.set(q.id, q);
  chunk.responses.forEach((r, i) => {
    const q = known.get(r.questionnaireId);
    if (!q) problems.push(`/responses/${i}: unknown questionnaire ${r.questionnaireId}`);
    else problems.push(...answerProblems(q, r.answers).map((p) => `/responses/${i}: ${p}`));
  });
  return problems;
}
