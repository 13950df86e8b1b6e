import type { ModelInstance, Params } from '@goldstone/plugin-api';

/**
 * A fingerprint of parameter values: FNV-1a over the float32 bytes of every tensor in the model's
 * spec order (the boundary between tensors counts), two 32-bit hashes with different offsets
 * (`fnv1a32x2:<16 hex digits>`). The runner stamps it on every stored analysis result
 * (`provenance.parameters.fingerprint`), so a later analysis can tell whether an earlier result was
 * measured at the parameters it is given. Not a cryptographic hash.
 */
export function parameterFingerprint(params: Params, specs: ModelInstance['specs']): string {
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
