/**
 * What the scene tells the outside about itself each frame: counters, what is in view, the weights
 * applied to the avatar. The debug snapshot (window.__halfface), tests and the scene benchmark read it.
 */
export interface HistoryEntry {
  /** performance.now() */
  t: number;
  /** tracker label at that moment (null: no result yet) */
  label: string | null;
  probabilities: Record<string, number> | null;
  /** ARKit morph influences read back from the avatar meshes (or VRM presets) */
  morph: Record<string, number>;
}

export interface ScreenRect { left: number; top: number; right: number; bottom: number }

export class ScenePort {
  frames = 0;
  xrFrames = 0;
  /** rendered triangles in the last frame */
  triangles = 0;
  avatarInView = false;
  panelInView = false;
  /** the mirror room is in the scene (it is while a headset presents) */
  roomShown = false;
  /** height of the avatar's anchor and of the viewer's eyes, metres on 'local-floor' */
  avatarY = 0;
  viewerY = 0;
  /** where the avatar and the panel are drawn on the desktop canvas, CSS pixels (null: not drawn) */
  screenRects: { avatar: ScreenRect | null; panel: ScreenRect | null } = { avatar: null, panel: null };
  avatarKind: 'default' | 'vrm' | 'gltf' = 'default';
  morph: Record<string, number> = {};
  /** ms between the last frames and CPU ms spent updating + rendering them (ring buffers) */
  readonly frameIntervals: number[] = [];
  readonly frameWork: number[] = [];
  readonly history: HistoryEntry[] = [];
  private static readonly KEEP = 600;

  pushFrame(intervalMs: number, workMs: number): void {
    this.frameIntervals.push(intervalMs);
    this.frameWork.push(workMs);
    if (this.frameIntervals.length > ScenePort.KEEP) this.frameIntervals.shift();
    if (this.frameWork.length > ScenePort.KEEP) this.frameWork.shift();
  }

  pushHistory(entry: HistoryEntry): void {
    this.history.push(entry);
    if (this.history.length > ScenePort.KEEP) this.history.shift();
  }

  /** Render frames per second over the last (up to) 30 frames; null before there are any. */
  fps(): number | null {
    const recent = this.frameIntervals.slice(-30);
    if (recent.length === 0) return null;
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    return mean > 0 ? 1000 / mean : null;
  }

  resetTimings(): void {
    this.frameIntervals.length = 0;
    this.frameWork.length = 0;
  }
}
