import type { GeneratorDirection, ParamSpec, Params } from '@goldstone/plugin-api';
import { FlatLayout } from './param-symmetries';

/**
 * Gᵀ·W for a linear input map G (D×D, row-major) and a first-layer weight W (D×H, row-major):
 * the weight change that realises x ↦ x + εGx, since (x + εGx)ᵀW = xᵀ(W + εGᵀW).
 */
export function transposedTimes(G: ArrayLike<number>, D: number, W: ArrayLike<number>, H: number): Float32Array {
  const out = new Float32Array(D * H);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      const g = G[i * D + j];
      if (g === 0) continue;
      for (let h = 0; h < H; h++) out[j * H + h] += g * W[i * H + h];
    }
  }
  return out;
}

/** Check that G has D×D values, for messages. */
export function generatorSizeIssue(G: ArrayLike<number>, D: number): string | null {
  return G.length === D * D ? null : `the generator has ${G.length} values, expected ${D}×${D} = ${D * D} (the flattened input size squared)`;
}

/**
 * The F×F block g of a G (D = N·F) that acts on every element of a set alike: G is block
 * diagonal (elements not mixed) with the same block on every element, up to `tol` · max |G|.
 * Otherwise why not.
 */
export function elementBlock(G: ArrayLike<number>, N: number, F: number, tol = 1e-6): { block: Float32Array } | { unsupported: string } {
  const D = N * F;
  const size = generatorSizeIssue(G, D);
  if (size) return { unsupported: size };
  let scale = 0;
  for (let i = 0; i < G.length; i++) scale = Math.max(scale, Math.abs(G[i]));
  const eps = tol * Math.max(scale, 1e-30);
  const block = new Float32Array(F * F);
  for (let p = 0; p < F; p++) for (let q = 0; q < F; q++) block[p * F + q] = G[p * D + q];
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < N; b++) {
      for (let p = 0; p < F; p++) {
        for (let q = 0; q < F; q++) {
          const v = G[(a * F + p) * D + b * F + q];
          if (a !== b && Math.abs(v) > eps) {
            return { unsupported: `the generator mixes elements ${b} and ${a} (G[${a * F + p}, ${b * F + q}] = ${v}); the per-element first layer can only absorb a map that acts on each element alone` };
          }
          if (a === b && Math.abs(v - block[p * F + q]) > eps) {
            return { unsupported: `the generator acts differently on element ${a} than on element 0 (channel ${p} from ${q}: ${v} vs ${block[p * F + q]}); the shared per-element first layer can only absorb the same map on every element` };
          }
        }
      }
    }
  }
  return { block };
}

/**
 * The flat direction that moves the named weights by the given changes (zero elsewhere), as a
 * `GeneratorDirection`.
 */
export function directionOf(specs: readonly ParamSpec[], changes: Record<string, Float32Array>): GeneratorDirection {
  const layout = new FlatLayout(specs);
  const direction = new Float32Array(layout.paramCount);
  for (const [name, delta] of Object.entries(changes)) direction.set(delta, layout.offset(name));
  return { direction, params: Object.keys(changes) };
}

/** A parameter's values on the host (a copy). */
export function hostValues(params: Params, name: string): Float32Array {
  return Float32Array.from(params[name].dataSync());
}
