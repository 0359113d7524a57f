/**
 * The one occlusion function used by training (tools/) and the browser (src/): the model must see
 * at run time exactly the pixels it saw in training.
 */
import { FACE_SIZE } from './face-geometry.js';
import { parseChoice } from './parse-choice.js';

/**
 * lower: the model sees only the lower half (what a VR headset leaves visible), rows 0-23 are 0.
 * upper: only the upper half, rows 24-47 are 0.  none: the whole face.
 */
export type Occlusion = 'none' | 'lower' | 'upper';
export const OCCLUSIONS: readonly Occlusion[] = ['none', 'lower', 'upper'];

/** Rows [start, end) of a 48-row face that the occlusion blacks out. */
export function hiddenRows(mode: Occlusion): [number, number] {
  const half = FACE_SIZE / 2;
  if (mode === 'lower') return [0, half];
  if (mode === 'upper') return [half, FACE_SIZE];
  return [0, 0];
}

/**
 * Blacks out the hidden rows of one or more 48x48 row-major faces, in place, and returns the array.
 * Works on any typed or plain array whose length is a multiple of 48*48*channels.
 */
export function occlude<T extends { length: number; fill(value: number, start?: number, end?: number): unknown }>(
  faces: T, mode: Occlusion, channels = 1,
): T {
  const [start, end] = hiddenRows(mode);
  if (start === end) return faces;
  const rowLength = FACE_SIZE * channels;
  const faceLength = FACE_SIZE * rowLength;
  if (faces.length % faceLength !== 0) {
    throw new Error(`occlude: length ${faces.length} is not a whole number of ${FACE_SIZE}x${FACE_SIZE}x${channels} faces`);
  }
  for (let offset = 0; offset < faces.length; offset += faceLength) {
    faces.fill(0, offset + start * rowLength, offset + end * rowLength);
  }
  return faces;
}

export function parseOcclusion(value: string): Occlusion {
  return parseChoice('occlusion', OCCLUSIONS, value);
}
