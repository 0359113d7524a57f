/**
 * Getting pixels out of whatever the app hands us (video, canvas, ImageBitmap, VideoFrame, ImageData),
 * in a window or a worker. Only the region of interest is read back: a 2D canvas copy without scaling,
 * so the pixel values reach src/core/preprocess.ts untouched.
 */
import type { PixelBox } from '../core/preprocess.js';
import { TrackerError } from './types.js';

export type Frame = TexImageSource | ImageData;

export interface Rgba { data: Uint8ClampedArray; width: number; height: number }

function isImageData(frame: unknown): frame is ImageData {
  return typeof ImageData !== 'undefined' && frame instanceof ImageData;
}

/** Pixel size of a frame; throws 'bad-frame' when it has none (zero-sized, video not playing yet, closed bitmap). */
export function frameSize(frame: Frame): { width: number; height: number } {
  if (frame == null || typeof frame !== 'object') throw new TrackerError('bad-frame', `not a frame: ${String(frame)}`);
  let width = 0, height = 0;
  if (typeof HTMLVideoElement !== 'undefined' && frame instanceof HTMLVideoElement) {
    if (frame.readyState < 2) throw new TrackerError('bad-frame', 'the video has no frame yet (readyState < HAVE_CURRENT_DATA)');
    width = frame.videoWidth; height = frame.videoHeight;
  } else if (typeof HTMLImageElement !== 'undefined' && frame instanceof HTMLImageElement) {
    width = frame.naturalWidth; height = frame.naturalHeight;
  } else if (typeof VideoFrame !== 'undefined' && frame instanceof VideoFrame) {
    width = frame.displayWidth; height = frame.displayHeight;
  } else {
    const sized = frame as { width?: unknown; height?: unknown };
    width = typeof sized.width === 'number' ? sized.width : 0;
    height = typeof sized.height === 'number' ? sized.height : 0;
  }
  if (!(width > 0 && height > 0)) throw new TrackerError('bad-frame', `the frame is ${width}x${height}: nothing to read`);
  return { width, height };
}

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** A reusable 2D canvas for read-backs: OffscreenCanvas where it exists (always in a worker). */
export class PixelReader {
  private canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  private context: Context2D | null = null;

  private ensure(width: number, height: number): Context2D {
    if (!this.canvas) {
      this.canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
      const ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as Context2D | null;
      if (!ctx) throw new TrackerError('bad-frame', 'no 2D canvas context to read frames with');
      this.context = ctx;
    }
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    return this.context!;
  }

  /** RGBA of one rectangle of the frame, unscaled. */
  crop(frame: Frame, box: PixelBox): Rgba {
    if (isImageData(frame)) {
      const full: Rgba = { data: frame.data, width: frame.width, height: frame.height };
      if (box.x === 0 && box.y === 0 && box.width === frame.width && box.height === frame.height) return full;
      const data = new Uint8ClampedArray(box.width * box.height * 4);
      for (let y = 0; y < box.height; y++) {
        const from = ((box.y + y) * frame.width + box.x) * 4;
        data.set(frame.data.subarray(from, from + box.width * 4), y * box.width * 4);
      }
      return { data, width: box.width, height: box.height };
    }
    const ctx = this.ensure(box.width, box.height);
    ctx.clearRect(0, 0, box.width, box.height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(frame as CanvasImageSource, box.x, box.y, box.width, box.height, 0, 0, box.width, box.height);
    const image = ctx.getImageData(0, 0, box.width, box.height);
    return { data: image.data, width: image.width, height: image.height };
  }

  /** The whole frame shrunk so its longer side is at most `maxSide` (for the face detector). */
  scaled(frame: Frame, frameWidth: number, frameHeight: number, maxSide: number): { image: ImageData; scale: number } {
    const scale = Math.min(1, maxSide / Math.max(frameWidth, frameHeight));
    const width = Math.max(1, Math.round(frameWidth * scale));
    const height = Math.max(1, Math.round(frameHeight * scale));
    const ctx = this.ensure(width, height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    if (isImageData(frame)) {
      if (scale === 1) return { image: frame, scale };
      // ImageData cannot be drawn scaled directly: put it on a canvas of its own first.
      const source = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(frameWidth, frameHeight) : Object.assign(document.createElement('canvas'), { width: frameWidth, height: frameHeight });
      (source.getContext('2d') as Context2D).putImageData(frame, 0, 0);
      ctx.drawImage(source, 0, 0, width, height);
    } else {
      ctx.drawImage(frame as CanvasImageSource, 0, 0, width, height);
    }
    return { image: ctx.getImageData(0, 0, width, height), scale: width / frameWidth };
  }
}
