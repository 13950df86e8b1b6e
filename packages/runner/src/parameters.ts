import type { Json, ModelInstance, Params } from '@goldstone/plugin-api';

/**
 * A fingerprint of parameter values: FNV-1a over the float32 bytes of every tensor in the model's
 * spec order, two 32-bit hashes with different offsets (`fnv1a32x2:<16 hex digits>`). The same
 * definition as `parameterFingerprint` of `@goldstone/analysis-robustness` (a test checks they
 * agree), which compares it with the one stamped on an earlier result.
 */
export function fingerprintParams(params: Params, specs: ModelInstance['specs']): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (const spec of specs) {
    const t = params[spec.name];
    const v = t ? (t.dataSync() as Float32Array) : new Float32Array(0);
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      a = Math.imul(a ^ bytes[i], 0x01000193);
      b = Math.imul(b ^ bytes[i], 0x01000193);
    }
    a = Math.imul(a ^ 0xff, 0x01000193);
    b = Math.imul(b ^ 0xfe, 0x01000193);
  }
  const hex = (h: number) => (h >>> 0).toString(16).padStart(8, '0');
  return `fnv1a32x2:${hex(a)}${hex(b)}`;
}

/** Which parameters an analysis ran on: stamped on every stored result as `provenance.parameters`. */
export interface ParametersUsed {
  /** `trained`: the parameters training ended with; `checkpoint <tag>`: read back from a checkpoint. */
  source: string;
  epoch?: number;
  step?: number;
  [key: string]: Json | undefined;
}
