/** The research session on the page: participant and condition, markers, the questionnaire at stop, downloads, upload. */
import { useState } from 'react';
import type { AppController } from './state/controller.js';
import { useStore } from './state/store.js';

export function StudyBox({ controller }: { controller: AppController }) {
  const study = useStore(controller.store, (s) => s.study);
  const [token, setToken] = useState('');
  const running = study.phase === 'recording' || study.phase === 'questionnaire';
  const q = study.questionnaire;
  return (
    <div className="study" data-testid="study">
      <div className="row">
        <input aria-label="participant id" placeholder="participant (auto)" value={study.participantId} disabled={running}
          onChange={(e) => controller.study.setParticipant(e.target.value, study.condition)} />
        <input aria-label="condition" placeholder="condition" value={study.condition} disabled={running}
          onChange={(e) => controller.study.setParticipant(study.participantId, e.target.value)} />
        <button onClick={() => controller.study.mark('api')} disabled={!running} title="or press M">Mark</button>
      </div>
      {study.phase === 'recording' && <div className="detail" data-testid="study-status">recording {study.participantId} / {study.condition}: {study.samples} frames, {study.markers} markers</div>}
      {q && (
        <form className="questionnaire" data-testid="questionnaire" onSubmit={(e) => { e.preventDefault(); controller.study.submitQuestionnaire(); }}>
          <div className="q-title">{q.title ?? q.id}</div>
          {q.items.map((item) => {
            const value = study.answers[item.id];
            const [min, max, step] = item.kind === 'slider' ? [item.min, item.max, item.step ?? 1] : [1, item.points, 1];
            const ends = item.kind === 'slider' ? [item.minLabel, item.maxLabel] : [item.anchors?.[0], item.anchors?.[item.anchors.length - 1]];
            return (
              <label key={item.id} className="q-item">
                <span>{item.prompt}: <b>{value}</b></span>
                <input type="range" aria-label={item.prompt} min={min} max={max} step={step} value={value}
                  onChange={(e) => controller.study.setAnswer(item.id, Number(e.target.value))} />
                <span className="q-ends"><span>{ends[0]}</span><span>{ends[1]}</span></span>
              </label>
            );
          })}
          <div className="row"><button type="submit">Submit answers</button><button type="button" onClick={() => controller.study.skipQuestionnaire()}>Skip</button></div>
        </form>
      )}
      {study.phase === 'done' && (
        <div className="row">
          <button onClick={() => controller.study.download('json')}>Download JSON</button>
          <button onClick={() => controller.study.download('csv')}>Download CSV</button>
        </div>
      )}
      {study.collect && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void controller.study.setToken(token); }}>
          <input aria-label="study token" type="password" placeholder="study token" value={token} onChange={(e) => setToken(e.target.value)} />
          <button type="submit">Use</button>
          <span className="detail" data-testid="upload-status">upload to {study.collect}: {study.upload}{study.uploaded ? ` (${study.uploaded} sent)` : ''}</span>
        </form>
      )}
      {study.message && <div className="message" data-testid="study-message">{study.message}</div>}
    </div>
  );
}
