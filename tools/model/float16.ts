/**
 * IEEE 754 half precision from float32, bit by bit: Node 20 has neither Float16Array nor
 * Math.f16round, and tfjs only decodes float16 (io_utils' getFloat16Decoder), it never encodes.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Largest finite half: anything larger in magnitude would load back as Infinity. */
export const FLOAT16_MAX = 65504;

/** The half nearest to `x` (ties to even, as the hardware does), as its 16 bits. */
export function float16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Below the smallest normal half: a subnormal, the implicit leading bit made explicit. Under
    // half the smallest subnormal (2^-25) rounds to zero.
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa lands in the exponent, which is the right answer (up to Infinity).
  return sign | ((e << 10) + roundShift(mantissa, 13));
}

/** `m >> shift`, rounded to nearest with ties to even. */
function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** Every value as float16, little-endian like the rest of a tfjs weights file. */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
  return out;
}
