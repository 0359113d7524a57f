/**
 * The camera preview with its region of interest, and the calibration UI for a head-mounted
 * camera: drag a box over the mouth and jaw (or the whole face), save it for this camera.
 */
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { Box, Placement } from '../core/preprocess.js';
import { boxFromCorners } from '../capture/roi-store.js';

export interface RoiEditorProps {
  video: HTMLVideoElement | null;
  /** the region the tracker used for the last frame */
  currentRoi: Box | null;
  editing: boolean;
  /** the camera can keep a calibration (files and the demo cannot) */
  canSave: boolean;
  onSave(roi: { box: Box; placement: Placement }): void;
  onReset(): void;
  onClose(): void;
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export function RoiEditor({ video, currentRoi, editing, canSave, onSave, onReset, onClose }: RoiEditorProps) {
  const holder = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ a: { x: number; y: number }; b: { x: number; y: number } } | null>(null);
  const [placement, setPlacement] = useState<Placement>('lower-half');

  useEffect(() => {
    const el = holder.current;
    if (!el || !video) return;
    video.className = 'preview-video';
    el.prepend(video);
    void video.play().catch(() => {});
    return () => { if (video.parentElement === el) el.removeChild(video); };
  }, [video]);

  const point = (e: ReactPointerEvent) => {
    const rect = holder.current!.getBoundingClientRect();
    return { x: (e.clientX - rect.left) / rect.width, y: (e.clientY - rect.top) / rect.height };
  };
  const drawn = drag ? boxFromCorners(drag.a, drag.b) : null;
  const shown = editing ? drawn : currentRoi;

  return (
    <div className={editing ? 'preview editing' : 'preview'}>
      <div
        ref={holder}
        className="preview-frame"
        data-testid="roi-preview"
        onPointerDown={(e) => { if (!editing) return; (e.target as Element).setPointerCapture(e.pointerId); const p = point(e); setDrag({ a: p, b: p }); }}
        onPointerMove={(e) => { if (editing && drag && e.buttons) setDrag({ a: drag.a, b: point(e) }); }}
      >
        {shown && <div className="roi-box" style={{ left: pct(shown.x), top: pct(shown.y), width: pct(shown.width), height: pct(shown.height) }} />}
      </div>
      {editing && (
        <div className="roi-tools">
          <span>Drag a box over the {placement === 'lower-half' ? 'mouth and jaw' : 'whole face'}.</span>
          <label>
            box shows{' '}
            <select value={placement} onChange={(e) => setPlacement(e.target.value as Placement)}>
              <option value="lower-half">mouth and jaw (head-mounted camera)</option>
              <option value="face">a whole face</option>
            </select>
          </label>
          <button disabled={!drawn} onClick={() => { if (drawn) onSave({ box: drawn, placement }); setDrag(null); }}>
            {canSave ? 'Save for this camera' : 'Use this box'}
          </button>
          <button onClick={() => { setDrag(null); onReset(); }}>Reset to automatic</button>
          <button onClick={() => { setDrag(null); onClose(); }}>Close</button>
        </div>
      )}
    </div>
  );
}
