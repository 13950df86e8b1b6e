/**
 * Uniform symmetric quantisation of one tensor to `bits` bits: 2^(bits−1) − 1 levels each side of
 * zero, step Δ = max|w| / (2^(bits−1) − 1), w ↦ Δ·round(w/Δ) (in float64, stored as float32). Zero
 * stays zero; the largest magnitude is represented exactly; the error is at most Δ/2.
 */
export function quantizeUniform(values: Float32Array, bits: number): { values: Float32Array; step: number } {
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) throw new RangeError(`quantizeUniform: bits must be an integer in 2..32, got ${bits}`);
  let max = 0;
  for (const v of values) if (Math.abs(v) > max) max = Math.abs(v);
  const levels = 2 ** (bits - 1) - 1;
  if (max === 0) return { values: Float32Array.from(values), step: 0 };
  const step = max / levels;
  return { values: Float32Array.from(values, (v) => step * Math.round(v / step)), step };
}
