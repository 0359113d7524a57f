/** Research recording: recorder, questionnaires, exports, upload queue. See docs/research.md. */
export * from './types.js';
export * from './recorder.js';
export * from './questionnaire.js';
export * from './export.js';
export * from './uploader.js';
export { UPLOAD_CHUNK_SCHEMA, MAX_CHUNK_SAMPLES, MAX_IMAGE_CHARS, MAX_SESSION_MS } from './schema.js';
export { newId } from './ids.js';
export { IndexedDbUploadQueue, downloadText, downloadRecording, recordingFileStem } from './browser.js';
