/**
 * Where things stand in the scene, and where the desktop camera looks from, for a window's aspect.
 * In a headset (and in wide windows) the panel stands beside the avatar, turned toward the user.
 * A portrait window (a phone, a narrow browser) cannot show both side by side at a readable size,
 * so on the desktop the panel moves under the avatar and the camera backs off until both fit.
 */
export type Vec3 = [number, number, number];

/** Eye height of a standing user on the 'local-floor' reference space. */
export const AVATAR_POSITION: Vec3 = [0, 1.5, -0.85];
export const VFOV_DEG = 50;
export const PANEL_WIDTH_M = 0.56;

/** Half-extents of what must stay in view: the default head with its shoulders, and the panel with its buttons (metres). */
export const AVATAR_HALF: Vec3 = [0.2, 0.21, 0.1];
export const PANEL_HALF: Vec3 = [0.29, 0.27, 0.02];

export interface SceneLayout {
  portrait: boolean;
  panel: { position: Vec3; rotationY: number };
  /** desktop camera; ignored while a headset drives the view */
  camera: Vec3;
  target: Vec3;
}

const SIDE: SceneLayout = {
  portrait: false,
  panel: { position: [0.52, 1.45, -0.78], rotationY: -0.55 },
  // From a little left of the avatar's front, looking between avatar and panel: the page's controls
  // sit on the left, so the avatar is drawn right of the window's centre line.
  camera: [0.0, 1.56, 0.1],
  target: [0.16, 1.45, -0.85],
};

/** Windows narrower than this (width / height) get the portrait layout. */
export const PORTRAIT_BELOW = 0.9;

export function sceneLayout(aspect: number, presenting: boolean): SceneLayout {
  if (presenting || !(aspect > 0)) return SIDE;
  const tan = Math.tan(((VFOV_DEG / 2) * Math.PI) / 180);
  if (aspect >= PORTRAIT_BELOW) {
    // Beside: the designed view fits from 16:9 up; narrower windows step back along the view line.
    const neededAspect = 1.75;
    if (aspect >= neededAspect) return SIDE;
    const k = neededAspect / aspect;
    const [cx, cy, cz] = SIDE.camera, [tx, ty, tz] = SIDE.target;
    return { ...SIDE, camera: [tx + (cx - tx) * k, ty + (cy - ty) * k, tz + (cz - tz) * k] };
  }
  // Under: the panel faces the camera just below the avatar's shoulders.
  const panelY = AVATAR_POSITION[1] - AVATAR_HALF[1] - PANEL_HALF[1] - 0.03;
  const panel: Vec3 = [0, panelY, AVATAR_POSITION[2] + 0.02];
  const top = AVATAR_POSITION[1] + AVATAR_HALF[1], bottom = panelY - PANEL_HALF[1];
  const halfHeight = (top - bottom) / 2, halfWidth = Math.max(AVATAR_HALF[0], PANEL_HALF[0]);
  const distance = 1.12 * Math.max(halfHeight / tan, halfWidth / (tan * aspect));
  const centre: Vec3 = [0, (top + bottom) / 2, AVATAR_POSITION[2]];
  return { portrait: true, panel: { position: panel, rotationY: 0 }, camera: [0, centre[1], centre[2] + distance], target: centre };
}
