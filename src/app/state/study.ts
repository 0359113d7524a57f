/**
 * A research session run from the app: ResearchRecorder behind the record button, markers from the
 * page, the keyboard and the VR panel, the valence/arousal questionnaire when recording stops (on
 * the page and in the headset), download as JSON or CSV, and, only when the study gives a
 * collection server (?collect=URL) and its token, upload through the offline IndexedDB queue.
 * Nothing leaves the device otherwise.
 */
import {
  downloadRecording, IndexedDbUploadQueue, RecorderError, ResearchRecorder, Uploader, VALENCE_AROUSAL,
  type MarkerSource, type Questionnaire, type Recording,
} from '../../research/index.js';
import type { TrackResult } from '../../tracker/index.js';
import type { ExpressionRecorder, RecordingContext } from './recorder.js';
import type { Store } from './store.js';

export interface StudyState {
  participantId: string;
  condition: string;
  phase: 'idle' | 'recording' | 'questionnaire' | 'done';
  samples: number;
  markers: number;
  /** shown while phase is 'questionnaire' */
  questionnaire: Questionnaire | null;
  answers: Record<string, number>;
  /** the finished session, for download */
  recording: Recording | null;
  /** collection server (null: none, nothing is uploaded) */
  collect: string | null;
  upload: 'off' | 'no-token' | 'idle' | 'uploading' | 'waiting' | 'unauthorized' | 'stopped';
  uploaded: number;
  message: string | null;
}

export const initialStudyState = (collect: string | null, participantId = '', condition = ''): StudyState => ({
  participantId, condition, phase: 'idle', samples: 0, markers: 0, questionnaire: null, answers: {}, recording: null,
  collect, upload: collect ? 'no-token' : 'off', uploaded: 0, message: null,
});

/** How often recorded rows are queued for upload while recording. */
const CHUNK_EVERY_MS = 5000;

/** A participant id for someone who starts recording in the headset, where typing is awkward. */
function generatedParticipantId(): string {
  return `P-${Math.random().toString(36).slice(2, 6).toUpperCase()}`;
}

export class Study implements ExpressionRecorder {
  private recorder: ResearchRecorder | null = null;
  private uploader: Uploader | null = null;
  private chunkTimer: ReturnType<typeof setInterval> | null = null;
  /** the uploader has no state event: its state is read back twice a second for the page */
  private uploadWatch: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly store: Store<{ study: StudyState }>) {}

  private get state(): StudyState {
    return this.store.getState().study;
  }

  private set(patch: Partial<StudyState>): void {
    this.store.setState((s) => ({ study: { ...s.study, ...patch } }));
  }

  setParticipant(participantId: string, condition: string): void {
    this.set({ participantId, condition });
  }

  /** Starts a new session (the controller's record button). */
  start(context: RecordingContext): void {
    if (this.state.phase === 'recording' || this.state.phase === 'questionnaire') throw new RecorderError('a session is already running');
    const participantId = this.state.participantId.trim() || generatedParticipantId();
    const condition = this.state.condition.trim() || 'default';
    // RecorderError says what is wrong with an id (too long, …): the controller shows it.
    const recorder = new ResearchRecorder({
      participantId, condition, questionnaires: [VALENCE_AROUSAL],
      meta: context.input ? { input: `${context.input.kind}: ${context.input.label}` } : undefined,
    });
    recorder.start({ startedAtMs: context.startedAtMs });
    this.recorder = recorder;
    this.set({ participantId, condition, phase: 'recording', samples: 0, markers: 0, recording: null, answers: {}, questionnaire: null, message: null });
    if (this.uploader) this.chunkTimer = setInterval(() => this.queueChunks(), CHUNK_EVERY_MS);
  }

  push(result: TrackResult): void {
    if (this.state.phase !== 'recording' || !this.recorder) return;
    try {
      this.recorder.push(result);
      this.set({ samples: this.state.samples + 1 });
    } catch (e) {
      this.set({ message: `a frame was not recorded: ${(e as Error).message}` });
    }
  }

  mark(source: MarkerSource, label = `marker ${this.state.markers + 1}`): void {
    if (!this.recorder || (this.state.phase !== 'recording' && this.state.phase !== 'questionnaire')) {
      this.set({ message: 'markers are recorded while a session runs: press Record first' });
      return;
    }
    this.recorder.mark(label, source);
    this.set({ markers: this.state.markers + 1, message: `${label} (${source})` });
  }

  /** The record button's stop: the questionnaire comes first, the session ends when it is answered or skipped. */
  stop(): void {
    if (this.state.phase !== 'recording' || !this.recorder) return;
    const questionnaire = this.recorder.questionnaire(VALENCE_AROUSAL.id) ?? null;
    const answers: Record<string, number> = {};
    for (const item of questionnaire?.items ?? []) answers[item.id] = item.kind === 'slider' ? Math.round((item.min + item.max) / 2) : Math.ceil(item.points / 2);
    this.set({ phase: 'questionnaire', questionnaire, answers, message: null });
  }

  setAnswer(itemId: string, value: number): void {
    this.set({ answers: { ...this.state.answers, [itemId]: value } });
  }

  submitQuestionnaire(): void {
    const q = this.state.questionnaire;
    if (!this.recorder || !q) return;
    try {
      this.recorder.respond(q.id, this.state.answers);
    } catch (e) {
      this.set({ message: (e as Error).message });
      return;
    }
    this.finish('answers saved');
  }

  skipQuestionnaire(): void {
    this.finish('questionnaire skipped');
  }

  private finish(what: string): void {
    const recorder = this.recorder;
    if (!recorder) return;
    recorder.stop();
    if (this.chunkTimer) clearInterval(this.chunkTimer);
    this.chunkTimer = null;
    this.queueChunks();
    const recording = recorder.recording();
    this.set({
      phase: 'done', questionnaire: null, recording,
      message: `${what}; session ${recording.session.participantId} / ${recording.session.condition}: ${recording.samples.length} frames, ${recording.markers.length} markers${this.uploader ? ', uploading' : ''}`,
    });
  }

  download(format: 'json' | 'csv'): void {
    const recording = this.state.recording;
    if (recording) downloadRecording(recording, format);
  }

  /** The study token for ?collect: starts the uploader (chunks wait in IndexedDB until then). */
  async setToken(token: string): Promise<void> {
    const endpoint = this.state.collect;
    if (!endpoint) return;
    this.uploader?.stop();
    this.uploader = null;
    if (!token.trim()) {
      this.set({ upload: 'no-token' });
      return;
    }
    try {
      const queue = await IndexedDbUploadQueue.open();
      this.uploader = new Uploader({
        endpoint, token: token.trim(), queue,
        onOutcome: (outcome) => {
          if (outcome.kind === 'stored' || outcome.kind === 'duplicate') this.set({ uploaded: this.state.uploaded + 1 });
          if (outcome.kind === 'rejected') this.set({ message: `the collection server refused an upload: ${outcome.reason}` });
          if (outcome.kind === 'unauthorized') this.set({ message: `the collection server refused the token (${outcome.status}): check it` });
          this.set({ upload: this.uploader?.state ?? 'stopped' });
        },
      });
      this.uploader.start();
      this.set({ upload: this.uploader.state, message: null });
      if (this.uploadWatch) clearInterval(this.uploadWatch);
      this.uploadWatch = setInterval(() => {
        const state = this.uploader?.state ?? 'stopped';
        if (state !== this.state.upload) this.set({ upload: state });
      }, 500);
      if (this.state.phase === 'recording' && !this.chunkTimer) this.chunkTimer = setInterval(() => this.queueChunks(), CHUNK_EVERY_MS);
      this.queueChunks();
    } catch (e) {
      this.set({ upload: 'stopped', message: `uploads cannot start: ${(e as Error).message}` });
    }
  }

  /** Hands every recorded row not yet queued to the uploader (no-op without one). */
  private queueChunks(): void {
    const uploader = this.uploader, recorder = this.recorder;
    if (!uploader || !recorder) return;
    for (let chunk = recorder.takeChunk(); chunk; chunk = recorder.takeChunk()) {
      uploader.enqueue(chunk).catch((e: Error) => this.set({ message: `an upload could not be queued: ${e.message}` }));
    }
  }

  dispose(): void {
    if (this.chunkTimer) clearInterval(this.chunkTimer);
    if (this.uploadWatch) clearInterval(this.uploadWatch);
    this.uploader?.stop();
  }
}
