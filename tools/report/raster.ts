/**
 * A minimal RGBA drawing surface for the report pictures: rectangles, anti-aliased lines and
 * dots, and bitmap text. Written for pngjs so the tools need no native canvas package.
 */
import { PNG } from 'pngjs';
import { ADVANCE, CAP_HEIGHT, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidth } from './font.js';

export type Rgb = readonly [number, number, number];

export function hexColor(hex: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a colour: ${hex}`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as unknown as Rgb;
}

/** Perceived lightness 0..1 (BT.601 luma), to pick dark or light text on a coloured cell. */
export function lightness(c: Rgb): number {
  return (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) / 255;
}

export interface TextOptions {
  scale?: number;
  color?: Rgb;
  /** Horizontal anchor of x. */
  align?: 'left' | 'center' | 'right';
  /** Vertical anchor of y: the top of capitals, their middle, or the baseline. */
  valign?: 'top' | 'middle' | 'baseline';
  /** Draw turned 90 degrees counter-clockwise (reading bottom to top), for a y-axis title. */
  vertical?: boolean;
}

export class Raster {
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Rgb = [255, 255, 255]) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(`raster size must be positive whole pixels, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([...background, 255], i * 4);
  }

  /** Blends colour into one pixel with coverage alpha 0..1; outside the picture is ignored. */
  blend(x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const i = (y * this.width + x) * 4;
    const a = Math.min(1, alpha);
    for (let k = 0; k < 3; k++) this.data[i + k] = Math.round(this.data[i + k] + (color[k] - this.data[i + k]) * a);
  }

  pixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, color, alpha);
  }

  strokeRect(x: number, y: number, w: number, h: number, color: Rgb, thickness = 1): void {
    this.fillRect(x, y, w, thickness, color);
    this.fillRect(x, y + h - thickness, w, thickness, color);
    this.fillRect(x, y, thickness, h, color);
    this.fillRect(x + w - thickness, y, thickness, h, color);
  }

  /**
   * An anti-aliased line of the given width: each pixel is covered by how far its centre lies
   * from the segment, with a one-pixel soft edge. Optional dashes as [on, off] lengths.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, width = 1, dash?: [number, number]): void {
    const half = width / 2;
    const dx = x1 - x0, dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const len = Math.sqrt(len2);
    const minX = Math.floor(Math.min(x0, x1) - half - 1), maxX = Math.ceil(Math.max(x0, x1) + half + 1);
    const minY = Math.floor(Math.min(y0, y1) - half - 1), maxY = Math.ceil(Math.max(y0, y1) + half + 1);
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5, py = y + 0.5;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
        if (dash && ((t * len) % (dash[0] + dash[1])) > dash[0]) continue;
        const d = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        const coverage = Math.max(0, Math.min(1, half + 0.5 - d));
        this.blend(x, y, color, coverage);
      }
    }
  }

  polyline(points: [number, number][], color: Rgb, width = 1, dash?: [number, number]): void {
    for (let i = 1; i < points.length; i++) this.line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1], color, width, dash);
  }

  /** A filled anti-aliased disc, optionally with a ring of another colour. */
  disc(cx: number, cy: number, r: number, color: Rgb, ring?: { color: Rgb; width: number }): void {
    for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++) {
      for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const cover = Math.max(0, Math.min(1, r + 0.5 - d));
        if (cover <= 0) continue;
        const inRing = ring && d > r - ring.width;
        this.blend(x, y, inRing ? ring.color : color, cover);
      }
    }
  }

  /** Bitmap text, one line; returns its width in pixels. */
  text(text: string, x: number, y: number, options: TextOptions = {}): number {
    const s = Math.max(1, Math.round(options.scale ?? 2));
    const color = options.color ?? [34, 34, 34];
    const w = textWidth(text, s);
    const along = options.align === 'center' ? -w / 2 : options.align === 'right' ? -w : 0;
    const across = options.valign === 'middle' ? -(CAP_HEIGHT * s) / 2 : options.valign === 'baseline' ? -CAP_HEIGHT * s : 0;
    const chars = [...text];
    chars.forEach((ch, k) => {
      const g = glyph(ch);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (!g[row][col]) continue;
          const u = along + (k * ADVANCE + col) * s; // along the text
          const v = across + row * s; // down the glyph
          if (options.vertical) this.fillRect(Math.round(x + v), Math.round(y - u - s), s, s, color);
          else this.fillRect(Math.round(x + u), Math.round(y + v), s, s, color);
        }
      }
    });
    return w;
  }

  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png);
  }
}
