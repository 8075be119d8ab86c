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
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = m[0] * x + m[1] * y + m[2];
      const sy = m[3] * x + m[4] * y + m[5];
      const out = (y * width + x) * channels;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) =>
          yy >= 0 && yy < height && xx >= 0 && xx < width ? src[(yy * width + xx) * channels + c]! : fill;
        const v =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        dst[out + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
}

/** Rounds and clamps to a byte. */
export function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
