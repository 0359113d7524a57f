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
