/**
 * A fake-camera clip of REAL faces for Chromium's --use-file-for-fake-video-capture: FER2013Valid
 * images (grey 48x48) upscaled into the centre of a 320x240 .y4m, one segment per expression. A
 * small marker square in the top-left corner says which segment a frame belongs to (white: first,
 * black: second), so a test can tell what the camera showed when it read the avatar. Written to a
 * temp dir at test time; never committed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { EXPRESSIONS, type Expression } from '../../src/core/labels.js';

export const CLIP = { width: 320, height: 240, fps: 10, faceSide: 192, marker: 16 };

/** Images whose majority of FER+ votes (≥ minVotes of 10) is `expression`, in label.csv order. */
export function pickImages(validDir: string, expression: Expression, count: number, minVotes = 8): string[] {
  const column = 2 + EXPRESSIONS.indexOf(expression);
  const out: string[] = [];
  for (const line of readFileSync(join(validDir, 'label.csv'), 'utf8').split('\n')) {
    const cells = line.split(/,(?![^(]*\))/);
    if (cells.length < 10) continue;
    if (Number(cells[column]) >= minVotes) out.push(join(validDir, cells[0]));
    if (out.length === count) break;
  }
  if (out.length < count) throw new Error(`only ${out.length} ${expression} images with ≥ ${minVotes} votes in ${validDir}`);
  return out;
}

function readGrey(path: string): Uint8Array {
  const png = PNG.sync.read(readFileSync(path));
  const grey = new Uint8Array(png.width * png.height);
  for (let i = 0; i < grey.length; i++) grey[i] = png.data[i * 4];
  if (png.width !== 48 || png.height !== 48) throw new Error(`${path} is ${png.width}x${png.height}, expected a 48x48 FER image`);
  return grey;
}

/** One luma plane: grey background, the face bilinearly upscaled into the centre, the segment marker. */
function lumaFrame(face: Uint8Array, segment: number): Uint8Array {
  const { width, height, faceSide, marker } = CLIP;
  const y = new Uint8Array(width * height).fill(118);
  const x0 = (width - faceSide) / 2, y0 = (height - faceSide) / 2;
  for (let dy = 0; dy < faceSide; dy++) {
    const sy = Math.min(47, Math.max(0, ((dy + 0.5) * 48) / faceSide - 0.5));
    const iy = Math.floor(sy), fy = sy - iy, iy1 = Math.min(47, iy + 1);
    for (let dx = 0; dx < faceSide; dx++) {
      const sx = Math.min(47, Math.max(0, ((dx + 0.5) * 48) / faceSide - 0.5));
      const ix = Math.floor(sx), fx = sx - ix, ix1 = Math.min(47, ix + 1);
      const v = (face[iy * 48 + ix] * (1 - fx) + face[iy * 48 + ix1] * fx) * (1 - fy) + (face[iy1 * 48 + ix] * (1 - fx) + face[iy1 * 48 + ix1] * fx) * fy;
      y[(y0 + dy) * width + x0 + dx] = Math.round(v);
    }
  }
  for (let my = 0; my < marker; my++) y.fill(segment === 0 ? 255 : 0, my * width, my * width + marker);
  return y;
}

/** Writes the clip: each segment's images shown in turn, each for `holdS` seconds. Returns its path. */
export function writeFaceClip(segments: string[][], holdS: number): { path: string; segmentSeconds: number[] } {
  const { width, height, fps } = CLIP;
  const chroma = new Uint8Array((width / 2) * (height / 2)).fill(128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const parts: Uint8Array[] = [header];
  const frameTag = Buffer.from('FRAME\n');
  segments.forEach((images, segment) => {
    for (const image of images) {
      const luma = lumaFrame(readGrey(image), segment);
      for (let f = 0; f < Math.round(holdS * fps); f++) parts.push(frameTag, luma, chroma, chroma);
    }
  });
  const dir = mkdtempSync(join(tmpdir(), 'halfface-e2e-'));
  const path = join(dir, 'faces.y4m');
  writeFileSync(path, Buffer.concat(parts));
  return { path, segmentSeconds: segments.map((s) => s.length * holdS) };
}

/** The clip's face square as a normalised box of the frame. */
export const CLIP_FACE_BOX = Object.freeze({
  x: (CLIP.width - CLIP.faceSide) / 2 / CLIP.width, y: (CLIP.height - CLIP.faceSide) / 2 / CLIP.height,
  width: CLIP.faceSide / CLIP.width, height: CLIP.faceSide / CLIP.height,
});

/**
 * Stores the clip's face square as the fake camera's region of interest, the way the app stores a
 * calibration (per device id), so tracking skips the face detector (too slow on SwiftShader for
 * tests that need many frames). Needs a page of the app's origin; returns the camera's device id.
 */
export async function storeClipRoi(page: Page): Promise<string> {
  await page.goto('/models/halfface/card.json');
  return page.evaluate(async (roi) => {
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    localStorage.setItem(`halfface.roi.${cameras[0].deviceId}`, JSON.stringify(roi));
    return cameras[0].deviceId;
  }, { box: CLIP_FACE_BOX, placement: 'face' });
}
