/** The app shell: the 3D scene full-window, with the desktop controls and notices over it. */
import type { XRStore } from '@react-three/xr';
import { useEffect, useState } from 'react';
import { RoiEditor } from './RoiEditor.js';
import { isAvatarFile } from '../avatar/avatar-loader.js';
import type { ScenePort } from './scene/probe.js';
import { Scene } from './scene/Scene.js';
import type { AppController } from './state/controller.js';
import { DEFAULT_OSC_BRIDGE_URL } from '../bridge/osc-bridge-client.js';
import { StudyBox } from './StudyBox.js';
import { describeInference, describeLoad, describeOsc, describeSpeed } from './state/status.js';
import { useStore } from './state/store.js';

function InputPicker({ controller }: { controller: AppController }) {
  const store = controller.store;
  const input = useStore(store, (s) => s.input);
  const cameras = useStore(store, (s) => s.cameras);
  const value = input?.kind === 'camera' ? `camera:${input.deviceId ?? ''}` : input?.kind ?? '';
  return (
    <label className="row">
      input{' '}
      <select
        data-testid="input-select"
        value={value}
        onChange={(e) => {
          const v = e.target.value;
          if (v === 'demo') void controller.useDemo(null);
          else if (v.startsWith('camera:')) void controller.useCamera(v.slice('camera:'.length) || undefined);
        }}
      >
        {cameras.map((c) => <option key={c.deviceId} value={`camera:${c.deviceId}`}>{c.label}</option>)}
        {input?.kind === 'camera' && !cameras.some((c) => `camera:${c.deviceId}` === value) && <option value={value}>{input.label}</option>}
        {cameras.length === 0 && input?.kind !== 'camera' && <option value="camera:">camera (ask for access)</option>}
        {input?.kind === 'file' && <option value="file">file: {input.label}</option>}
        <option value="demo">demo face (built in)</option>
      </select>{' '}
      <label className="file-button">
        video file…
        <input type="file" accept="video/*" onChange={(e) => { const f = e.target.files?.[0]; if (f) void controller.useFile(f); e.target.value = ''; }} />
      </label>
    </label>
  );
}

/** Render fps, tracking rate, inference ms: polled twice a second, so 60 Hz frames never re-render React. */
function SpeedLine({ controller, port }: { controller: AppController; port: ScenePort }) {
  const [text, setText] = useState('');
  useEffect(() => {
    const update = () => setText(describeSpeed(controller.store.getState(), port.fps()));
    update();
    const timer = setInterval(update, 500);
    return () => clearInterval(timer);
  }, [controller, port]);
  return <div className="detail" data-testid="speed">{text}</div>;
}

/** OSC output to the bridge: a toggle, the URL, and what the connection is doing. */
function OscRow({ controller }: { controller: AppController }) {
  const osc = useStore(controller.store, (s) => s.osc);
  const [url, setUrl] = useState(osc.url ?? DEFAULT_OSC_BRIDGE_URL);
  useEffect(() => { if (osc.url) setUrl(osc.url); }, [osc.url]);
  return (
    <>
      <div className="row">
        <label className="toggle">
          <input type="checkbox" data-testid="osc-toggle" checked={osc.state !== 'off'} onChange={(e) => controller.setOsc(e.target.checked ? url.trim() : null)} /> OSC
        </label>
        <input aria-label="OSC bridge URL" value={url} onChange={(e) => setUrl(e.target.value)} disabled={osc.state !== 'off'} />
      </div>
      <div className={osc.state === 'connecting' ? 'detail warn' : 'detail'} data-testid="osc-status">{describeOsc(osc)}</div>
      {osc.error && <div className="message error" data-testid="osc-error">{osc.error}</div>}
    </>
  );
}

/** Phones and small windows: the controls fold away behind a menu button so the scene stays visible. */
const COMPACT_QUERY = '(max-width: 699px), (max-height: 559px)';

function useCompactWindow(): boolean {
  const [compact, setCompact] = useState(() => window.matchMedia(COMPACT_QUERY).matches);
  useEffect(() => {
    const query = window.matchMedia(COMPACT_QUERY);
    const change = () => setCompact(query.matches);
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, []);
  return compact;
}

export function App({ controller, xrStore, port }: { controller: AppController; xrStore: XRStore; port: ScenePort }) {
  const store = controller.store;
  const s = useStore(store, (st) => st);
  const [avatarUrl, setAvatarUrl] = useState('');
  const [dropping, setDropping] = useState(false);
  const compact = useCompactWindow();
  const [open, setOpen] = useState(false);

  useEffect(() => {
    const over = (e: DragEvent) => { e.preventDefault(); setDropping(true); };
    const leave = () => setDropping(false);
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDropping(false);
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      if (isAvatarFile(file.name)) controller.loadAvatar(URL.createObjectURL(file), file.name);
      else if (file.type.startsWith('video/')) void controller.useFile(file);
      else store.setState({ avatarError: `"${file.name}" is neither an avatar (.vrm, .glb, .gltf) nor a video file` });
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [controller, store]);

  useEffect(() => {
    // M marks an event while recording (not while typing in a field).
    const key = (e: KeyboardEvent) => {
      if ((e.key === 'm' || e.key === 'M') && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement)) controller.study.mark('keyboard');
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [controller]);

  useEffect(() => xrStore.subscribe((x) => store.setState({ presenting: x.session != null })), [xrStore, store]);

  const latest = s.latest;
  return (
    <div className={dropping ? 'app dropping' : 'app'}>
      <Scene controller={controller} xrStore={xrStore} port={port} />
      <div className={compact ? (open ? 'hud compact open' : 'hud compact') : 'hud'} data-testid="hud">
        <div className="hud-head">
          <h1>halfface</h1>
          {compact && <button className="menu" aria-expanded={open} aria-label={open ? 'hide controls' : 'show controls'} onClick={() => setOpen(!open)}>{open ? '✕' : '☰'}</button>}
        </div>
        <div className="status" data-testid="tracker-status">
          {s.trackerStatus === 'ready'
            ? `tracking: ${latest ? `${latest.label} ${(latest.confidence * 100).toFixed(0)}%` : 'waiting for a face…'}`
            : s.trackerStatus === 'loading' ? describeLoad(s.loadProgress) : 'tracker unavailable'}
        </div>
        {/* notices stay visible when the controls are folded: they say why the app is not doing what was asked */}
        {s.trackerMessage && <div className="message error" data-testid="tracker-message">{s.trackerMessage}</div>}
        {s.modelNotice && <div className="message notice" role="status" data-testid="model-notice">{s.modelNotice}</div>}
        {s.inputNotice && <div className="message notice" role="status" data-testid="input-notice">{s.inputNotice}</div>}
        {(!compact || open) && (<>
        <div className={s.trackerStatus === 'ready' && !s.trackerInWorker ? 'detail warn' : 'detail'} data-testid="inference-where">{describeInference(s)}</div>
        <SpeedLine controller={controller} port={port} />
        <InputPicker controller={controller} />
        <div className="row">
          <button onClick={() => void controller.calibrateNeutral()} disabled={s.calibration === 'running'}>
            {s.calibration === 'running' ? 'Calibrating… hold still' : 'Calibrate neutral'}
          </button>
          <button onClick={() => void controller.toggleRecording()} className={s.recording ? 'recording' : ''}>{s.recording ? '■ Stop' : '● Record'}</button>
          <button onClick={() => store.setState({ roiEditorOpen: !s.roiEditorOpen })}>ROI…</button>
        </div>
        {(s.calibrationMessage || s.recorderMessage) && <div className="message">{s.calibrationMessage ?? s.recorderMessage}</div>}
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (avatarUrl.trim()) controller.loadAvatar(avatarUrl.trim()); }}>
          <input placeholder="avatar URL (.vrm / .glb) or drop a file" value={avatarUrl} onChange={(e) => setAvatarUrl(e.target.value)} />
          <button type="submit">Load</button>
        </form>
        <StudyBox controller={controller} />
        <OscRow controller={controller} />
        <div className="avatar-line" data-testid="avatar-name">avatar: {s.avatar.name}{s.avatarLoading ? ' (loading another…)' : ''}</div>
        {s.avatarError && (
          <div className="message error" role="alert" data-testid="avatar-error">
            {s.avatarError}. Keeping the current avatar. <button onClick={() => store.setState({ avatarError: null })}>dismiss</button>
          </div>
        )}
        </>)}
      </div>
      <RoiEditor
        video={controller.video}
        key={s.input ? `${s.input.kind}:${s.input.deviceId ?? s.input.label}` : 'none'}
        currentRoi={latest?.roi ?? null}
        editing={s.roiEditorOpen}
        canSave={s.input?.kind === 'camera'}
        onSave={(roi) => { void controller.calibrateRoi(roi); store.setState({ roiEditorOpen: false }); }}
        onReset={() => void controller.calibrateRoi(null)}
        onClose={() => store.setState({ roiEditorOpen: false })}
      />
      {s.xrSupported && !s.presenting && (
        <button className="enter-vr" data-testid="enter-vr" onClick={() => void xrStore.enterVR()}>Enter VR</button>
      )}
    </div>
  );
}
