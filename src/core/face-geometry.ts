/** The face geometry the models are trained on: FER2013 crops, 48x48, one grey channel. */
export const FACE_SIZE = 48;
export const FACE_PIXELS = FACE_SIZE * FACE_SIZE;

/** ITU-R BT.601 luma, the formula that turned FER2013's colour sources into its grey crops. */
export function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Model input scaling: 8-bit grey to [0, 1]. One definition for training and the browser. */
export function normalisePixel(grey: number): number {
  return grey / 255;
}
