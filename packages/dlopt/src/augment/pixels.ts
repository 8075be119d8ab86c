/** Pixel helpers shared by the geometric augmentations (uint8 HWC images). */

/** NumPy's 'reflect' padding index: -1 → 1, n → n-2 (the edge is not repeated). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return k;
}

/**
 * Resamples one image through an affine map with bilinear interpolation:
 * destination pixel (x, y) reads the source at (m[0]x + m[1]y + m[2],
 * m[3]x + m[4]y + m[5]) (pixel centres at integers); outside the source, `fill`.
 */
export function warpAffine(
  src: Uint8Array,
  dst: Uint8Array,
  height: number,
  width: number,
  channels: number,
  m: readonly [number, number, number, number, number, number],
  fill = 0,
): void {
  const [m0, m1, m2, m3, m4, m5] = m;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = m0 * x + m1 * y + m2;
      const sy = m3 * x + m4 * y + m5;
      const out = (y * width + x) * channels;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      // The four neighbours' offsets, or -1 outside the image (read as `fill`): computed once per pixel, not per channel.
      const inX0 = x0 >= 0 && x0 < width;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < width;
      const inY0 = y0 >= 0 && y0 < height;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < height;
      const o00 = inY0 && inX0 ? (y0 * width + x0) * channels : -1;
      const o01 = inY0 && inX1 ? (y0 * width + x0 + 1) * channels : -1;
      const o10 = inY1 && inX0 ? ((y0 + 1) * width + x0) * channels : -1;
      const o11 = inY1 && inX1 ? ((y0 + 1) * width + x0 + 1) * channels : -1;
      const w00 = (1 - fy) * (1 - fx);
      const w01 = (1 - fy) * fx;
      const w10 = fy * (1 - fx);
      const w11 = fy * fx;
      for (let c = 0; c < channels; c++) {
        const v =
          w00 * (o00 < 0 ? fill : src[o00 + c]!) +
          w01 * (o01 < 0 ? fill : src[o01 + c]!) +
          w10 * (o10 < 0 ? fill : src[o10 + c]!) +
          w11 * (o11 < 0 ? fill : src[o11 + c]!);
        dst[out + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
}

/** Rounds and clamps to a byte. */
export function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
