/**
 * Recordings → CSV and JSON text (and JSON back). Pure functions: the browser downloads their
 * output (browser.ts), the collection server writes it to files (tools/collect). One table per
 * kind of row, each row carrying session, participant and condition so several sessions concatenate.
 *
 * Numbers are written with String(n), the shortest text that parses back to the same double, so a
 * CSV round-trip is exact.
 */
import { ARKIT_BLENDSHAPES } from '../core/blendshapes.js';
import { EXPRESSIONS } from '../core/labels.js';
import type { Recording } from './types.js';

const VRM_KEYS = ['happy', 'angry', 'sad', 'relaxed', 'surprised', 'neutral'] as const;

export function recordingToJson(recording: Recording): string {
  return `${JSON.stringify(recording, null, 2)}\n`;
}

export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

/** Parses a JSON export; checks it is one (format, version, the lists) rather than trusting it. */
export function recordingFromJson(text: string): Recording {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RecordingFormatError(`not JSON: ${(e as Error).message}`);
  }
  const r = value as Partial<Recording> | null;
  if (!r || typeof r !== 'object' || r.format !== 'halfface-recording') throw new RecordingFormatError('not a halfface recording (format field)');
  if (r.version !== 1) throw new RecordingFormatError(`unsupported recording version ${String(r.version)}`);
  for (const key of ['samples', 'markers', 'questionnaires', 'responses'] as const) {
    if (!Array.isArray(r[key])) throw new RecordingFormatError(`${key} must be a list`);
  }
  if (!r.session || typeof r.session.sessionId !== 'string') throw new RecordingFormatError('session.sessionId is missing');
  return r as Recording;
}

/**
 * Text a spreadsheet would run as a formula (a participant id "=HYPERLINK(…)" typed into a headset)
 * starts with one of these; OWASP's advice: a leading apostrophe, which spreadsheets show as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. Text that starts like a
 * formula gets a leading apostrophe; numbers (negative ones too) are written as numbers.
 */
function field(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'number' ? String(value) : FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function table(header: string[], rows: (string | number | undefined | null)[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

/** Blendshape columns: ARKit order for the standard names, then any others alphabetically. */
function blendshapeColumns(recordings: readonly Recording[]): string[] {
  const seen = new Set<string>();
  for (const r of recordings) for (const s of r.samples) for (const k of Object.keys(s.blendshapes)) seen.add(k);
  const standard = ARKIT_BLENDSHAPES.filter((k) => seen.has(k));
  const other = [...seen].filter((k) => !(ARKIT_BLENDSHAPES as readonly string[]).includes(k)).sort();
  return [...standard, ...other];
}

/**
 * One row per tracked frame: t_ms (since session start), the tracker timestamp, label, confidence,
 * p_<class> for the 8 FER+ classes, vrm_<preset>, bs_<blendshape> (empty = not reported), and an
 * image column only when some session stored images.
 */
export function samplesCsv(recordings: readonly Recording[]): string {
  const shapes = blendshapeColumns(recordings);
  const withImages = recordings.some((r) => r.session.recordImages);
  const header = [
    'session_id', 'participant_id', 'condition', 't_ms', 'timestamp_ms', 'label', 'confidence',
    ...EXPRESSIONS.map((e) => `p_${e}`), ...VRM_KEYS.map((k) => `vrm_${k}`), ...shapes.map((k) => `bs_${k}`),
    ...(withImages ? ['image'] : []),
  ];
  const rows = recordings.flatMap((r) => r.samples.map((s) => [
    r.session.sessionId, r.session.participantId, r.session.condition, s.tMs, s.timestampMs, s.label, s.confidence,
    ...EXPRESSIONS.map((e) => s.probabilities[e]), ...VRM_KEYS.map((k) => s.vrm[k]), ...shapes.map((k) => s.blendshapes[k]),
    ...(withImages ? [s.image] : []),
  ]));
  return table(header, rows);
}

export function markersCsv(recordings: readonly Recording[]): string {
  const header = ['session_id', 'participant_id', 'condition', 't_ms', 'source', 'label', 'detail'];
  const rows = recordings.flatMap((r) => r.markers.map((m) => [
    r.session.sessionId, r.session.participantId, r.session.condition, m.tMs, m.source, m.label, m.detail,
  ]));
  return table(header, rows);
}

/** Long format: one row per answered item. */
export function responsesCsv(recordings: readonly Recording[]): string {
  const header = ['session_id', 'participant_id', 'condition', 't_ms', 'questionnaire_id', 'item_id', 'answer'];
  const rows = recordings.flatMap((r) => r.responses.flatMap((resp) => {
    const q = r.questionnaires.find((x) => x.id === resp.questionnaireId);
    const order = q ? q.items.map((i) => i.id) : Object.keys(resp.answers);
    return order.map((item) => [r.session.sessionId, r.session.participantId, r.session.condition, resp.tMs, resp.questionnaireId, item, resp.answers[item]]);
  }));
  return table(header, rows);
}

/** One row per session. */
export function sessionsCsv(recordings: readonly Recording[]): string {
  const header = ['session_id', 'participant_id', 'condition', 'started_at', 'ended_at', 'samples', 'markers', 'responses', 'record_images'];
  const rows = recordings.map((r) => [
    r.session.sessionId, r.session.participantId, r.session.condition, r.session.startedAt, r.endedAt,
    r.samples.length, r.markers.length, r.responses.length, String(r.session.recordImages),
  ]);
  return table(header, rows);
}

/** The four CSV files of an export, by file name. */
export function exportCsvFiles(recordings: readonly Recording[]): Record<string, string> {
  return {
    'sessions.csv': sessionsCsv(recordings),
    'samples.csv': samplesCsv(recordings),
    'markers.csv': markersCsv(recordings),
    'responses.csv': responsesCsv(recordings),
  };
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (quoted) throw new RecordingFormatError('CSV ends inside a quoted field');
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
