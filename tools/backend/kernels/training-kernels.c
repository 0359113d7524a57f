/*
 * Training kernels for TensorFlow.js wasm, compiled to a small wasm module that shares the wasm
 * backend's own memory (tools/backend/training-kernels.ts instantiates it on that memory and
 * passes tensor addresses). Rules that make sharing safe: no static data, no libc, no array on the
 * stack (so the module never touches a byte it was not handed). Every function works on a range
 * of rows or output tiles, so that several threads can share one call.
 *
 * Layout is NHWC throughout: a tensor of P rows (N*H*W) by C channels, row-major.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) __attribute__((used))

typedef float f32;

/* out[c] (+)= sum over rows [p0, p1) of x[p, c]; block partials keep float32 error small. */
EXPORT(channel_sum)
void channel_sum(const f32 *x, int p0, int p1, int C, f32 *out, f32 *block, int accumulate) {
  if (!accumulate) for (int c = 0; c < C; c++) out[c] = 0.0f;
  const int C4 = C & ~3;
  for (int b0 = p0; b0 < p1; b0 += 256) {
    const int b1 = b0 + 256 < p1 ? b0 + 256 : p1;
    for (int c = 0; c < C; c++) block[c] = 0.0f;
    for (int p = b0; p < b1; p++) {
      const f32 *row = x + (long)p * C;
      int c = 0;
      for (; c < C4; c += 4) wasm_v128_store(block + c, wasm_f32x4_add(wasm_v128_load(block + c), wasm_v128_load(row + c)));
      for (; c < C; c++) block[c] += row[c];
    }
    for (int c = 0; c < C; c++) out[c] += block[c];
  }
}

/* out[c] (+)= sum over rows of (x - mean)^2 (with y = NULL) or of y * (x - mean). */
EXPORT(channel_centered_dot)
void channel_centered_dot(const f32 *x, const f32 *mean, const f32 *y, int p0, int p1, int C, f32 *out, f32 *block, int accumulate) {
  if (!accumulate) for (int c = 0; c < C; c++) out[c] = 0.0f;
  const int C4 = C & ~3;
  for (int b0 = p0; b0 < p1; b0 += 256) {
    const int b1 = b0 + 256 < p1 ? b0 + 256 : p1;
    for (int c = 0; c < C; c++) block[c] = 0.0f;
    for (int p = b0; p < b1; p++) {
      const f32 *row = x + (long)p * C;
      const f32 *other = y ? y + (long)p * C : 0;
      int c = 0;
      for (; c < C4; c += 4) {
        const v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        const v128_t w = other ? wasm_v128_load(other + c) : d;
        wasm_v128_store(block + c, wasm_f32x4_add(wasm_v128_load(block + c), wasm_f32x4_mul(d, w)));
      }
      for (; c < C; c++) {
        const f32 d = row[c] - mean[c];
        block[c] += d * (other ? other[c] : d);
      }
    }
    for (int c = 0; c < C; c++) out[c] += block[c];
  }
}

/* out = a * (x - mean) + b * y + shift, per channel (y may be NULL). Batch norm forward uses
 * a = gamma * invstd, b = 0, shift = beta; its gradient a, b = gamma * invstd, shift (see .ts). */
EXPORT(channel_affine)
void channel_affine(const f32 *x, const f32 *mean, const f32 *a, const f32 *y, const f32 *b, const f32 *shift, f32 *out, int p0, int p1, int C) {
  const int C4 = C & ~3;
  for (int p = p0; p < p1; p++) {
    const f32 *row = x + (long)p * C;
    const f32 *other = y ? y + (long)p * C : 0;
    f32 *dst = out + (long)p * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(a + c), wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c))), wasm_v128_load(shift + c));
      if (other) v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(b + c), wasm_v128_load(other + c)));
      wasm_v128_store(dst + c, v);
    }
    for (; c < C; c++) dst[c] = a[c] * (row[c] - mean[c]) + shift[c] + (other ? b[c] * other[c] : 0.0f);
  }
}

/*
 * Max-pool gradient for output rows [r0, r1) (r = n * OH + oy): each output's gradient goes to the
 * first maximum of its window in row-major order, as the tfjs cpu kernel does. dx must be zeroed
 * first when windows overlap or leave inputs uncovered (zero_rows does that).
 */
EXPORT(maxpool_grad)
void maxpool_grad(const f32 *x, const f32 *dy, f32 *dx, int H, int W, int C, int OH, int OW, int fh, int fw, int sh, int sw, int pt, int pl, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const int n = r / OH, oy = r % OH;
    for (int ox = 0; ox < OW; ox++) {
      const f32 *g = dy + ((long)r * OW + ox) * C;
      for (int c = 0; c < C; c++) {
        long best = -1;
        f32 bestValue = 0.0f;
        for (int i = 0; i < fh; i++) {
          const int iy = oy * sh + i - pt;
          if (iy < 0 || iy >= H) continue;
          for (int j = 0; j < fw; j++) {
            const int ix = ox * sw + j - pl;
            if (ix < 0 || ix >= W) continue;
            const long at = (((long)n * H + iy) * W + ix) * C + c;
            if (best < 0 || x[at] > bestValue) { best = at; bestValue = x[at]; }
          }
        }
        if (best >= 0) dx[best] += g[c];
      }
    }
  }
}

/* The common case, windows that tile the input (2x2 stride 2, no padding), four channels at a
 * time: every input is written once, so no zeroing and no accumulation. */
EXPORT(maxpool_grad_tiled)
void maxpool_grad_tiled(const f32 *x, const f32 *dy, f32 *dx, int H, int W, int C, int OH, int OW, int f, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const int n = r / OH, oy = r % OH;
    for (int ox = 0; ox < OW; ox++) {
      const f32 *g = dy + ((long)r * OW + ox) * C;
      for (int c = 0; c < C; c += 4) {
        const long origin = (((long)n * H + oy * f) * W + ox * f) * C + c;
        v128_t best = wasm_v128_load(x + origin);
        for (int i = 0; i < f; i++) for (int j = 0; j < f; j++) best = wasm_f32x4_pmax(best, wasm_v128_load(x + origin + ((long)i * W + j) * C));
        v128_t taken = wasm_i32x4_splat(0);
        const v128_t grad = wasm_v128_load(g + c);
        for (int i = 0; i < f; i++) {
          for (int j = 0; j < f; j++) {
            const long at = origin + ((long)i * W + j) * C;
            const v128_t hit = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + at), best), taken);
            taken = wasm_v128_or(taken, hit);
            wasm_v128_store(dx + at, wasm_v128_and(grad, hit));
          }
        }
      }
    }
  }
  /* Inputs past the last window (odd H or W) get no gradient. */
  for (int r = r0; r < r1; r++) {
    const int n = r / OH, oy = r % OH;
    for (int i = 0; i < f; i++) {
      f32 *row = dx + (((long)n * H + oy * f + i) * W) * C;
      for (long k = (long)OW * f * C; k < (long)W * C; k++) row[k] = 0.0f;
    }
    if (oy == OH - 1) {
      for (int iy = OH * f; iy < H; iy++) {
        f32 *row = dx + (((long)n * H + iy) * W) * C;
        for (long k = 0; k < (long)W * C; k++) row[k] = 0.0f;
      }
    }
  }
}

/* ReLU's gradient in one pass: dx = dy where x > 0, else 0 (tfjs: step, cast, multiply). */
EXPORT(relu_grad)
void relu_grad(const f32 *x, const f32 *dy, f32 *dx, long begin, long end) {
  long i = begin;
  const v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= end; i += 4) wasm_v128_store(dx + i, wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(wasm_v128_load(x + i), z)));
  for (; i < end; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/*
 * One Adam step for one variable, in tfjs's order of float32 operations:
 * m' = m b1 + g (1 - b1); v' = v b2 + g^2 (1 - b2); w' = (m' / c1) / (sqrt(v' / c2) + eps) (-lr) + w,
 * with c1 = 1 - b1^t and c2 = 1 - b2^t. New tensors out, inputs untouched.
 */
EXPORT(adam_update)
void adam_update(const f32 *w, const f32 *g, const f32 *m, const f32 *v, f32 *w2, f32 *m2, f32 *v2,
                 f32 b1, f32 ob1, f32 b2, f32 ob2, f32 c1, f32 c2, f32 neg_lr, f32 eps, long begin, long end) {
  /* ob1 = 1 - b1, ob2 = 1 - b2 and neg_lr = -lr come from JavaScript, rounded from doubles as tfjs's are. */
  for (long i = begin; i < end; i++) {
    const f32 nm = m[i] * b1 + g[i] * ob1;
    const f32 nv = v[i] * b2 + (g[i] * g[i]) * ob2;
    m2[i] = nm;
    v2[i] = nv;
    w2[i] = ((nm / c1) / (__builtin_sqrtf(nv / c2) + eps)) * neg_lr + w[i];
  }
}

EXPORT(fill_zero)
void fill_zero(f32 *out, long begin, long end) {
  long i = begin;
  const v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= end; i += 4) wasm_v128_store(out + i, z);
  for (; i < end; i++) out[i] = 0.0f;
}

/* Copies x [N, H, W, C] into the middle of xp [N, Hp, Wp, C] (already zeroed): the padded input. */
EXPORT(pad_rows)
void pad_rows(const f32 *x, f32 *xp, int H, int W, int C, int Hp, int Wp, int pt, int pl, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const int n = r / H, y = r % H;
    const f32 *src = x + (long)r * W * C;
    f32 *dst = xp + (((long)n * Hp + y + pt) * Wp + pl) * C;
    for (long k = 0; k < (long)W * C; k++) dst[k] = src[k];
  }
}

/*
 * Filter gradient of a convolution: dw[kh, kw, ci, co] = sum over n, oy, ox of
 * xp[n, oy*sh + kh*dh, ox*sw + kw*dw, ci] * dy[n, oy, ox, co], on the padded input xp.
 * k = (kh, kw, ci) flattened; this call fills k in [k0, k1). Tiles of 4 k by 8 co stay in
 * registers while rows of dy stream by, in blocks of output rows that stay in cache.
 */
static inline long k_offset(int k, int KW, int Ci, int Wp, int dh, int dwl) {
  const int ci = k % Ci, t = k / Ci, kw = t % KW, kh = t / KW;
  return ((long)kh * dh * Wp + (long)kw * dwl) * Ci + ci;
}

EXPORT(conv_backprop_filter)
void conv_backprop_filter(const f32 *xp, const f32 *dy, f32 *dw, int N, int Hp, int Wp, int Ci, int OH, int OW, int Co,
                          int KW, int sh, int sw, int dh, int dwl, int k0, int k1) {
  const int rowsPerBlock = OW >= 256 ? 1 : 256 / OW;
  const int rows = N * OH;
  for (int k = k0; k < k1; k++) for (int co = 0; co < Co; co++) dw[(long)k * Co + co] = 0.0f;
  for (int rb = 0; rb < rows; rb += rowsPerBlock) {
    const int re = rb + rowsPerBlock < rows ? rb + rowsPerBlock : rows;
    for (int k = k0; k < k1; k += 4) {
      /* A short last tile repeats its last k and drops the extra sums. */
      const int kk1 = k + 1 < k1 ? k + 1 : k1 - 1, kk2 = k + 2 < k1 ? k + 2 : k1 - 1, kk3 = k + 3 < k1 ? k + 3 : k1 - 1;
      const long o0 = k_offset(k, KW, Ci, Wp, dh, dwl), o1 = k_offset(kk1, KW, Ci, Wp, dh, dwl);
      const long o2 = k_offset(kk2, KW, Ci, Wp, dh, dwl), o3 = k_offset(kk3, KW, Ci, Wp, dh, dwl);
      for (int co = 0; co < Co; co += 8) {
        v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int r = rb; r < re; r++) {
          const int n = r / OH, oy = r % OH;
          const f32 *xr = xp + ((long)n * Hp + (long)oy * sh) * Wp * Ci;
          const f32 *g = dy + (long)r * OW * Co + co;
          for (int ox = 0; ox < OW; ox++) {
            const f32 *xs = xr + (long)ox * sw * Ci;
            const v128_t d0 = wasm_v128_load(g), d1 = wasm_v128_load(g + 4);
            const v128_t x0 = wasm_f32x4_splat(xs[o0]), x1 = wasm_f32x4_splat(xs[o1]);
            const v128_t x2 = wasm_f32x4_splat(xs[o2]), x3 = wasm_f32x4_splat(xs[o3]);
            a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x0, d0)); a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x0, d1));
            a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x1, d0)); a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x1, d1));
            a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x2, d0)); a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x2, d1));
            a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x3, d0)); a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x3, d1));
            g += Co;
          }
        }
        f32 *w0 = dw + (long)k * Co + co;
        wasm_v128_store(w0, wasm_f32x4_add(wasm_v128_load(w0), a00));
        wasm_v128_store(w0 + 4, wasm_f32x4_add(wasm_v128_load(w0 + 4), a01));
        if (k + 1 < k1) { f32 *w = w0 + Co; wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a10)); wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a11)); }
        if (k + 2 < k1) { f32 *w = w0 + 2 * Co; wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a20)); wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a21)); }
        if (k + 3 < k1) { f32 *w = w0 + 3 * Co; wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a30)); wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a31)); }
      }
    }
  }
}

/*
 * Depthwise convolution gradients, NHWC, channel multiplier M: output channel co = c * M + q reads
 * input channel c = co / M, and the [KH, KW, C, M] filter flattened is [KH * KW, Co] with Co = C * M,
 * so dy and the filter share the channel index co. Both kernels vectorise over co, four at a time;
 * a last group of fewer than four goes one channel at a time (no load past a tensor's end).
 */

/* a / s for a >= 0: strides are almost always 1 or 2, and a division per pixel would cost more
 * than a few of its multiply-adds. */
static inline __attribute__((always_inline)) int div_small(int a, int s) {
  return s == 1 ? a : s == 2 ? a >> 1 : a / s;
}

/* First output position and count of the taps that land on padded input coordinate i: with d == 1
 * consecutive outputs o use taps k = i - o * s, with s == 1 consecutive taps k use o = i - k * d. */
static inline __attribute__((always_inline))
void tap_progression(int i, int s, int d, int K, int O, int *o_start, int *k_start, int *count, int *o_step, int *k_step) {
  if (d == 1) {
    const int top = i - K + 1;
    const int lo = top > 0 ? div_small(top + s - 1, s) : 0;
    const int last = div_small(i, s);
    const int hi = last < O - 1 ? last : O - 1;
    *o_start = lo; *k_start = i - lo * s; *count = hi - lo + 1; *o_step = 1; *k_step = -s;
  } else {
    const int top = i - O + 1;
    const int lo = top > 0 ? (top + d - 1) / d : 0;
    const int hi = i / d < K - 1 ? i / d : K - 1;
    *k_start = lo; *o_start = i - lo * d; *count = hi - lo + 1; *k_step = 1; *o_step = -d;
  }
}

/*
 * Input gradient for input rows [r0, r1) (r = n * H + iy): dx[n, iy, ix, c] = sum over taps and
 * q < M of dy[n, oy, ox, c * M + q] * w[kh, kw, c * M + q], where oy * sh + kh * dh = iy + pt and
 * ox * sw + kw * dw = ix + pl. Gathered per input pixel, so threads own disjoint rows of dx and
 * nothing needs zeroing or padding. Needs sh == 1 or dh == 1, and sw == 1 or dw == 1 (the caller
 * expands a filter that is both strided and dilated).
 */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const f32 *dy, const f32 *w, f32 *dx, int H, int W, int C, int M, int OH, int OW, int KH, int KW,
                              int sh, int sw, int dh, int dwl, int pt, int pl, int r0, int r1) {
  const int Co = C * M, Co4 = Co & ~3;
  for (int r = r0; r < r1; r++) {
    const int n = r / H, iy = r % H;
    int oy0, kh0, ny, oyStep, khStep;
    tap_progression(iy + pt, sh, dh, KH, OH, &oy0, &kh0, &ny, &oyStep, &khStep);
    const f32 *dyImage = dy + (long)n * OH * OW * Co;
    for (int ix = 0; ix < W; ix++) {
      int ox0, kw0, nx, oxStep, kwStep;
      tap_progression(ix + pl, sw, dwl, KW, OW, &ox0, &kw0, &nx, &oxStep, &kwStep);
      f32 *out = dx + ((long)r * W + ix) * C;
      if (M != 1 || ny <= 0 || nx <= 0) for (int c = 0; c < C; c++) out[c] = 0.0f;
      if (ny <= 0 || nx <= 0) continue;
      const long gRow = (long)oyStep * OW * Co, wRow = (long)khStep * KW * Co;
      const long gCol = (long)oxStep * Co, wCol = (long)kwStep * Co;
      const f32 *g0 = dyImage + ((long)oy0 * OW + ox0) * Co;
      const f32 *w0 = w + ((long)kh0 * KW + kw0) * Co;
      int co = 0;
      /* Eight channels at a time where they fit: two independent sums hide the add latency. */
      if (M == 1) {
        for (; co + 8 <= Co; co += 8) {
          v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0;
          const f32 *gy = g0 + co, *wy = w0 + co;
          for (int a = 0; a < ny; a++, gy += gRow, wy += wRow) {
            const f32 *gx = gy, *wx = wy;
            for (int b = 0; b < nx; b++, gx += gCol, wx += wCol) {
              acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(gx), wasm_v128_load(wx)));
              acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(gx + 4), wasm_v128_load(wx + 4)));
            }
          }
          wasm_v128_store(out + co, acc0);
          wasm_v128_store(out + co + 4, acc1);
        }
      }
      for (; co < Co4; co += 4) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        const f32 *gy = g0 + co, *wy = w0 + co;
        for (int a = 0; a < ny; a++, gy += gRow, wy += wRow) {
          const f32 *gx = gy, *wx = wy;
          for (int b = 0; b < nx; b++, gx += gCol, wx += wCol) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(gx), wasm_v128_load(wx)));
        }
        if (M == 1) wasm_v128_store(out + co, acc);
        else {
          out[co / M] += wasm_f32x4_extract_lane(acc, 0);
          out[(co + 1) / M] += wasm_f32x4_extract_lane(acc, 1);
          out[(co + 2) / M] += wasm_f32x4_extract_lane(acc, 2);
          out[(co + 3) / M] += wasm_f32x4_extract_lane(acc, 3);
        }
      }
      for (; co < Co; co++) {
        f32 acc = 0.0f;
        const f32 *gy = g0 + co, *wy = w0 + co;
        for (int a = 0; a < ny; a++, gy += gRow, wy += wRow) {
          const f32 *gx = gy, *wx = wy;
          for (int b = 0; b < nx; b++, gx += gCol, wx += wCol) acc += *gx * *wx;
        }
        if (M == 1) out[co] = acc;
        else out[co / M] += acc;
      }
    }
  }
}

/*
 * Filter gradient: dw[kh, kw, co] = sum over n, oy, ox of dy[n, oy, ox, co] *
 * x[n, oy * sh + kh * dh - pt, ox * sw + kw * dw - pl, co / M], any strides and dilations. A unit
 * of work is one tap and one group of four co (u = k * groups + group); this call fills units
 * [u0, u1), so threads own disjoint parts of dw. Sums stay in registers over blocks of output rows
 * small enough for the cache, since every unit of a block reads the same rows; taps that fall in
 * the padding are skipped by clipping the output range, so x needs no padded copy.
 */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const f32 *x, const f32 *dy, f32 *dw, int N, int H, int W, int C, int M, int OH, int OW,
                               int KW, int sh, int sw, int dh, int dwl, int pt, int pl, int u0, int u1) {
  const int Co = C * M, groups = (Co + 3) / 4;
  const int rows = N * OH;
  const int pixelsPerBlock = 16384 / Co > OW ? 16384 / Co : OW;
  const int rowsPerBlock = pixelsPerBlock / OW;
  for (int u = u0; u < u1; u++) {
    const int co = (u % groups) * 4, width = Co - co < 4 ? Co - co : 4;
    for (int j = 0; j < width; j++) dw[(long)(u / groups) * Co + co + j] = 0.0f;
  }
  for (int rb = 0; rb < rows; rb += rowsPerBlock) {
    const int re = rb + rowsPerBlock < rows ? rb + rowsPerBlock : rows;
    for (int u = u0; u < u1; u++) {
      const int k = u / groups, kh = k / KW, kw = k % KW;
      const int co = (u % groups) * 4, width = Co - co < 4 ? Co - co : 4;
      /* Outputs whose tap lands inside the input: 0 <= ox * sw + kw * dw - pl < W. */
      const int left = pl - kw * dwl, right = W - 1 + pl - kw * dwl;
      const int oxLo = left > 0 ? (left + sw - 1) / sw : 0;
      const int oxHi = right < 0 ? 0 : (right / sw + 1 < OW ? right / sw + 1 : OW);
      if (oxLo >= oxHi) continue;
      /* Lane j reads input channel (co + j) / M: the same channel for M = 1, so one load. */
      const int c0 = co / M, c1 = (co + 1) / M, c2 = (co + 2) / M, c3 = (co + 3) / M;
      const long xStep = (long)sw * C;
      v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0;
      f32 tail0 = 0.0f, tail1 = 0.0f, tail2 = 0.0f;
      for (int r = rb, n = rb / OH, oy = rb % OH; r < re; r++, oy = oy + 1 == OH ? 0 : oy + 1, n += oy == 0) {
        const int iy = oy * sh + kh * dh - pt;
        if (iy < 0 || iy >= H) continue;
        const f32 *xs = x + (((long)n * H + iy) * W + (long)oxLo * sw + kw * dwl - pl) * C;
        const f32 *g = dy + ((long)r * OW + oxLo) * Co + co;
        int ox = oxLo;
        if (width < 4) {
          for (; ox < oxHi; ox++, xs += xStep, g += Co) {
            tail0 += g[0] * xs[c0];
            if (width > 1) tail1 += g[1] * xs[c1];
            if (width > 2) tail2 += g[2] * xs[c2];
          }
        } else if (M == 1) {
          for (; ox + 1 < oxHi; ox += 2, xs += 2 * xStep, g += 2 * Co) {
            acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(g), wasm_v128_load(xs + c0)));
            acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(g + Co), wasm_v128_load(xs + xStep + c0)));
          }
          if (ox < oxHi) acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(g), wasm_v128_load(xs + c0)));
        } else {
          for (; ox < oxHi; ox++, xs += xStep, g += Co)
            acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(g), wasm_f32x4_make(xs[c0], xs[c1], xs[c2], xs[c3])));
        }
      }
      f32 *out = dw + (long)k * Co + co;
      if (width == 4) wasm_v128_store(out, wasm_f32x4_add(wasm_v128_load(out), wasm_f32x4_add(acc0, acc1)));
      else {
        out[0] += tail0;
        if (width > 1) out[1] += tail1;
        if (width > 2) out[2] += tail2;
      }
    }
  }
}
