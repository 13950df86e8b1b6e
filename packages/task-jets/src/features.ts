/** The per-constituent channels a jet's inputs can carry. */
export const FEATURES = ['logz', 'deta', 'dphi', 'z'] as const;
export type FeatureName = (typeof FEATURES)[number];

/** The default channels: (log z, Δη, Δφ), docs/jets-soft-symmetry.md. */
export const DEFAULT_FEATURES: FeatureName[] = ['logz', 'deta', 'dphi'];

/** Where each channel sits in a constituent's row (−1: absent). */
export interface Channels {
  width: number;
  logz: number;
  deta: number;
  dphi: number;
  z: number;
}

export function channelsOf(features: readonly FeatureName[]): Channels {
  return { width: features.length, logz: features.indexOf('logz'), deta: features.indexOf('deta'), dphi: features.indexOf('dphi'), z: features.indexOf('z') };
}

/** The energy fraction of a row's constituent, from its `z` or `logz` channel (0 for padding). */
export function fractionOf(x: ArrayLike<number>, row: number, c: Channels): number {
  const o = row * c.width;
  if (c.z >= 0) return x[o + c.z];
  let zero = true;
  for (let k = 0; k < c.width; k++) if (x[o + k] !== 0) zero = false;
  return zero ? 0 : Math.exp(x[o + c.logz]);
}

/** Whether a row is padding (all channels zero). */
export function isPadding(x: ArrayLike<number>, row: number, width: number): boolean {
  const o = row * width;
  for (let k = 0; k < width; k++) if (x[o + k] !== 0) return false;
  return true;
}
