/**
 * The research recorder on a real tracked stream (FER+ faces → student model → the tracker's
 * smoothing and mapping): a scripted session's JSON and CSV hold exactly what was tracked; images
 * only when opted in; questionnaires validated; upload chunks partition the session.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ARKIT_BLENDSHAPES } from '../src/core/blendshapes.js';
import { EXPRESSIONS } from '../src/core/labels.js';
import {
  answerProblems, backoffDelayMs, exportCsvFiles, likertQuestionnaire, markersCsv, parseCsv, questionnaireProblems,
  recordingFromJson, recordingToJson, RecorderError, RecordingFormatError, ResearchRecorder, responsesCsv, samplesCsv,
  VALENCE_AROUSAL, type ExpressionSample, type Questionnaire,
} from '../src/research/index.js';
import { STREAM_ORIGIN_MS, trackedStream } from './helpers/tracked-stream.js';

let stream: ExpressionSample[];
const COMFORT = likertQuestionnaire('comfort', 'The headset was comfortable', 7);
const FAKE_PNG = 'data:image/png;base64,iVBORw0KGgo=';

beforeAll(async () => {
  stream = await trackedStream(12);
});

/** The scripted session: every tracked frame, markers from each source, two questionnaires. */
function scriptedSession(options: { recordImages?: boolean } = {}): ResearchRecorder {
  const rec = new ResearchRecorder({
    participantId: 'P07', condition: 'headset, "bright" room', recordImages: options.recordImages,
    questionnaires: [VALENCE_AROUSAL, COMFORT], meta: { input: 'FER+ replay' },
    now: (() => { let t = Date.parse('2025-03-01T10:00:00.000Z'); return () => new Date((t += 1000)); })(),
  });
  rec.start({ startedAtMs: STREAM_ORIGIN_MS });
  rec.mark('baseline-start', 'api');
  stream.forEach((s, i) => {
    rec.push(s, FAKE_PNG);
    if (i === 30) rec.mark('stimulus', 'keyboard', 'key S, clip "a,b"');
    if (i === 60) rec.mark('trigger', 'controller', 'right trigger');
  });
  rec.respond('valence-arousal', { valence: 6.25, arousal: 2 });
  rec.respond('comfort', { comfort: 5 }, stream[10].timestampMs);
  rec.stop();
  return rec;
}

describe('a scripted session', () => {
  it('keeps every tracked frame exactly, on the session clock', () => {
    const r = scriptedSession().recording();
    expect(r.samples).toHaveLength(stream.length);
    r.samples.forEach((s, i) => {
      const t = stream[i];
      expect(s.tMs).toBe(t.timestampMs - STREAM_ORIGIN_MS);
      expect(s.timestampMs).toBe(t.timestampMs);
      expect(s.probabilities).toEqual(t.probabilities);
      expect(s.label).toBe(t.label);
      expect(s.confidence).toBe(t.confidence);
      expect(s.blendshapes).toEqual(t.blendshapes);
      expect(s.vrm).toEqual(t.vrm);
      expect(s).not.toHaveProperty('image');
    });
    expect(r.session).toMatchObject({ participantId: 'P07', recordImages: false, clockOriginMs: STREAM_ORIGIN_MS, startedAt: '2025-03-01T10:00:01.000Z' });
    expect(r.endedAt).toBe('2025-03-01T10:00:02.000Z');
    expect(r.markers.map((m) => [m.label, m.source, m.tMs])).toEqual([
      ['baseline-start', 'api', 0],
      ['stimulus', 'keyboard', stream[30].timestampMs - STREAM_ORIGIN_MS],
      ['trigger', 'controller', stream[60].timestampMs - STREAM_ORIGIN_MS],
    ]);
    expect(r.responses).toEqual([
      { tMs: stream.at(-1)!.timestampMs - STREAM_ORIGIN_MS, questionnaireId: 'valence-arousal', answers: { valence: 6.25, arousal: 2 } },
      { tMs: stream[10].timestampMs - STREAM_ORIGIN_MS, questionnaireId: 'comfort', answers: { comfort: 5 } },
    ]);
  });

  it('JSON export parses back to the same recording', () => {
    const r = scriptedSession().recording();
    expect(recordingFromJson(recordingToJson(r))).toEqual(r);
    expect(() => recordingFromJson('{"format":"other"}')).toThrow(RecordingFormatError);
    expect(() => recordingFromJson('not json')).toThrow(/not JSON/);
  });

  it('samples CSV holds every tracked value, parseable back to the same numbers', () => {
    const r = scriptedSession().recording();
    const rows = parseCsv(samplesCsv([r]));
    const [header, ...body] = rows;
    expect(body).toHaveLength(stream.length);
    expect(header).not.toContain('image');
    const shapes = Object.keys(stream[0].blendshapes);
    for (const shape of shapes) expect(header).toContain(`bs_${shape}`);
    // ARKit order, so files from different sessions line up
    const bsCols = header.filter((h) => h.startsWith('bs_')).map((h) => h.slice(3));
    expect(bsCols).toEqual(ARKIT_BLENDSHAPES.filter((k) => shapes.includes(k)));
    const col = (name: string) => header.indexOf(name);
    body.forEach((row, i) => {
      const t = stream[i];
      expect(row[col('session_id')]).toBe(r.session.sessionId);
      expect(row[col('condition')]).toBe('headset, "bright" room');
      expect(Number(row[col('t_ms')])).toBe(t.timestampMs - STREAM_ORIGIN_MS);
      expect(row[col('label')]).toBe(t.label);
      expect(Number(row[col('confidence')])).toBe(t.confidence);
      for (const e of EXPRESSIONS) expect(Number(row[col(`p_${e}`)])).toBe(t.probabilities[e]);
      for (const [k, v] of Object.entries(t.vrm)) expect(Number(row[col(`vrm_${k}`)])).toBe(v);
      for (const k of shapes) expect(Number(row[col(`bs_${k}`)])).toBe(t.blendshapes[k]);
    });
  });

  it('markers and responses CSV, with commas and quotes intact', () => {
    const r = scriptedSession().recording();
    const markers = parseCsv(markersCsv([r]));
    expect(markers.slice(1).map((row) => [row[4], row[5], row[6]])).toEqual([
      ['api', 'baseline-start', ''], ['keyboard', 'stimulus', 'key S, clip "a,b"'], ['controller', 'trigger', 'right trigger'],
    ]);
    const responses = parseCsv(responsesCsv([r]));
    expect(responses[0]).toEqual(['session_id', 'participant_id', 'condition', 't_ms', 'questionnaire_id', 'item_id', 'answer']);
    expect(responses.slice(1).map((row) => [row[4], row[5], Number(row[6])])).toEqual([
      ['valence-arousal', 'valence', 6.25], ['valence-arousal', 'arousal', 2], ['comfort', 'comfort', 5],
    ]);
    const files = exportCsvFiles([r]);
    expect(Object.keys(files).sort()).toEqual(['markers.csv', 'responses.csv', 'samples.csv', 'sessions.csv']);
    expect(parseCsv(files['sessions.csv'])[1].slice(5, 8)).toEqual([String(stream.length), '3', '2']);
  });

  it('stores images only when the researcher opted in', () => {
    const withImages = scriptedSession({ recordImages: true }).recording();
    expect(withImages.samples.every((s) => s.image === FAKE_PNG)).toBe(true);
    expect(parseCsv(samplesCsv([withImages]))[0].at(-1)).toBe('image');
    const without = scriptedSession().recording();
    expect(JSON.stringify(without)).not.toContain('data:image');
    expect(samplesCsv([without])).not.toContain('data:image');
  });
});

describe('upload chunks', () => {
  it('partition the session in order, the last one carrying endedAt', () => {
    const rec = scriptedSession();
    const chunks = [];
    for (let c = rec.takeChunk(25); c; c = rec.takeChunk(25)) chunks.push(c);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(new Set(chunks.map((c) => c.uploadId)).size).toBe(chunks.length);
    expect(chunks.every((c) => c.samples.length <= 25)).toBe(true);
    const r = rec.recording();
    expect(chunks.flatMap((c) => c.samples)).toEqual(r.samples);
    expect(chunks.flatMap((c) => c.markers)).toEqual(r.markers);
    expect(chunks.flatMap((c) => c.responses)).toEqual(r.responses);
    expect(chunks.flatMap((c) => c.questionnaires)).toEqual(r.questionnaires);
    expect(chunks.filter((c) => c.endedAt !== undefined).map((c) => c.seq)).toEqual([chunks.length - 1]);
    expect(rec.takeChunk()).toBeNull();
  });

  it('while recording, only new rows go out; nothing new → no chunk', () => {
    const rec = new ResearchRecorder({ participantId: 'P1', condition: 'A' });
    rec.start({ startedAtMs: STREAM_ORIGIN_MS });
    rec.push(stream[0]);
    const first = rec.takeChunk()!;
    expect(first.samples).toHaveLength(1);
    expect(first.questionnaires.map((q) => q.id)).toEqual(['valence-arousal']);
    expect(rec.takeChunk()).toBeNull();
    rec.push(stream[1]);
    rec.mark('m');
    const second = rec.takeChunk()!;
    expect([second.seq, second.samples.length, second.markers.length, second.questionnaires.length, second.endedAt]).toEqual([1, 1, 1, 0, undefined]);
    rec.stop();
    const last = rec.takeChunk()!;
    expect([last.seq, last.samples.length, typeof last.endedAt]).toEqual([2, 0, 'string']);
  });
});

describe('bad input gets a clear error', () => {
  it('samples that would poison the data', () => {
    const rec = new ResearchRecorder({ participantId: 'P1', condition: 'A' });
    expect(() => rec.push(stream[0])).toThrow(/not started/);
    rec.start({ startedAtMs: 0 });
    expect(() => rec.push({ ...stream[0], probabilities: { ...stream[0].probabilities, anger: Number.NaN } })).toThrow(/probability of anger is NaN/);
    expect(() => rec.push({ ...stream[0], label: 'joy' as never })).toThrow(/label "joy"/);
    expect(() => rec.push({ ...stream[0], timestampMs: Number.POSITIVE_INFINITY })).toThrow(/timestampMs/);
    rec.push(stream[5]);
    expect(() => rec.push(stream[4])).toThrow(/went backwards/);
    expect(() => rec.mark('x', 'mouse' as never)).toThrow(/marker source/);
    expect(() => rec.mark('  ')).toThrow(/marker label/);
    rec.stop();
    expect(() => rec.push(stream[6])).toThrow(/ended/);
    expect(() => new ResearchRecorder({ participantId: '', condition: 'A' })).toThrow(/participantId/);
    expect(() => rec.start({ startedAtMs: 0 })).toThrow(/already ran/);
  });

  it('times outside the session, which the collection server would refuse', () => {
    const rec = new ResearchRecorder({ participantId: 'P1', condition: 'A', questionnaires: [COMFORT] });
    rec.start({ startedAtMs: 1000 });
    expect(() => rec.push({ ...stream[0], timestampMs: 999 })).toThrow(/timestampMs 999 is before the session started \(1000\)/);
    expect(() => rec.mark('early', 'api', undefined, 500)).toThrow(/marker time 500 is before the session started/);
    expect(() => rec.respond('comfort', { comfort: 3 }, 0)).toThrow(/response time 0 is before the session started/);
    expect(() => rec.push({ ...stream[0], timestampMs: 1000 + 8 * 24 * 3600 * 1000 })).toThrow(/more than 604800000 ms after/);
    rec.push({ ...stream[0], timestampMs: 1000 });
    expect(rec.recording().samples.map((s) => s.tMs)).toEqual([0]);
    expect(rec.recording().markers).toEqual([]);
  });

  it('questionnaire definitions', () => {
    expect(questionnaireProblems(VALENCE_AROUSAL)).toEqual([]);
    expect(questionnaireProblems(COMFORT)).toEqual([]);
    const bad: Questionnaire = {
      id: 'bad id', title: 't', items: [
        { kind: 'slider', id: 'a', prompt: 'p', min: 5, max: 1 },
        { kind: 'likert', id: 'a', prompt: '', points: 1 },
        { kind: 'likert', id: 'c', prompt: 'p', points: 5, anchors: ['x', 'y', 'z'] },
      ],
    };
    const problems = questionnaireProblems(bad);
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/questionnaire id/);
    expect(problems.join('\n')).toMatch(/min < max/);
    expect(problems.join('\n')).toMatch(/duplicate id a/);
    expect(problems.join('\n')).toMatch(/points must be an integer 2..11/);
    expect(problems.join('\n')).toMatch(/anchors/);
    expect(() => new ResearchRecorder({ participantId: 'P', condition: 'C', questionnaires: [bad] })).toThrow(RecorderError);
  });

  it('answers', () => {
    const stepped: Questionnaire = { id: 's', title: 't', items: [{ kind: 'slider', id: 'x', prompt: 'p', min: 0, max: 1, step: 0.1 }] };
    expect(answerProblems(stepped, { x: 0.1 + 0.2 })).toEqual([]);
    expect(answerProblems(stepped, { x: 0.25 })[0]).toMatch(/not on the step/);
    expect(answerProblems(VALENCE_AROUSAL, { valence: 9, arousal: 1 })).toEqual([]);
    expect(answerProblems(VALENCE_AROUSAL, { valence: 9.5 })).toEqual(['valence: 9.5 is outside 1..9', 'arousal: not answered']);
    expect(answerProblems(VALENCE_AROUSAL, { valence: Number.NaN, arousal: '3', mood: 2 })).toEqual([
      'mood: not an item of questionnaire valence-arousal',
      'valence: answer must be a finite number, got null',
      'arousal: answer must be a finite number, got "3"',
    ]);
    expect(answerProblems(COMFORT, { comfort: 4.5 })[0]).toMatch(/integer 1..7/);
    expect(answerProblems(COMFORT, { comfort: 8 })[0]).toMatch(/integer 1..7/);
    const rec = new ResearchRecorder({ participantId: 'P', condition: 'C', questionnaires: [COMFORT] });
    rec.start({ startedAtMs: 0 });
    expect(() => rec.respond('comfort', { comfort: 0 })).toThrow(/answers to comfort are not valid: comfort: a 7-point/);
    expect(() => rec.respond('nope', {})).toThrow(/unknown questionnaire/);
    expect(rec.recording().responses).toEqual([]);
  });
});

describe('retry backoff', () => {
  it('grows by the factor, caps, and jitter only shortens it', () => {
    const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelayMs(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(200);
    expect(backoffDelayMs(3, opts, () => 0.5)).toBe(300);
  });
});


describe('CSV cells a spreadsheet would run as formulas', () => {
  it('text starting with = + - @ tab or CR is written with a leading apostrophe; numbers stay numbers', () => {
    const rec = new ResearchRecorder({ participantId: '=HYPERLINK("http://x.example","click")', condition: '+1+cmd|calc' });
    rec.start({ startedAtMs: STREAM_ORIGIN_MS });
    rec.push(stream[0]);
    rec.mark('@SUM(A1:A9)', 'api', '-2+3');
    rec.mark('\tTAB', 'api', '\rCR');
    rec.mark('safe label', 'api', 'a=b');
    rec.stop();
    const r = rec.recording();
    const files = exportCsvFiles([r]);
    const formula = /^[=+\-@\t\r]/;
    for (const [name, text] of Object.entries(files)) {
      for (const row of parseCsv(text).slice(1)) for (const cell of row) expect(cell, `${name}: ${JSON.stringify(cell)}`).not.toMatch(formula);
    }
    const sessions = parseCsv(files['sessions.csv']);
    expect(sessions[1].slice(1, 3)).toEqual(['\'=HYPERLINK("http://x.example","click")', "'+1+cmd|calc"]);
    const markers = parseCsv(files['markers.csv']).slice(1).map((row) => [row[5], row[6]]);
    expect(markers).toEqual([["'@SUM(A1:A9)", "'-2+3"], ["'\tTAB", "'\rCR"], ['safe label', 'a=b']]);
    // negative numbers are numbers, not text: written as is
    expect(markersCsv([{ ...r, markers: [{ tMs: -5, label: 'x', source: 'api' }] }]).split('\r\n')[1]).toContain(',-5,api,');
  });
});
