import * as tf from '@tensorflow/tfjs-core';
import type { Params, ParamSpec } from '@goldstone/plugin-api';


export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function countParams(specs: readonly ParamSpec[]): number {
  return specs.reduce((n, s) => n + sizeOf(s.shape), 0);
}

/** Concatenate named parameters into one flat vector, in the order of `specs`. */
export function flattenParams(params: Params, specs: readonly ParamSpec[]): tf.Tensor1D {
  return tf.tidy(() => {
    const parts = specs.map((s) => {
      const t = params[s.name];
      if (!t) throw new Error(`flattenParams: missing parameter "${s.name}"`);
      if (t.size !== sizeOf(s.shape)) {
        throw new Error(`flattenParams: parameter "${s.name}" has ${t.size} values, expected shape [${s.shape}]`);
      }
      return tf.reshape(t, [-1]);
    });
    return parts.length === 1 ? (parts[0] as tf.Tensor1D) : (tf.concat(parts) as tf.Tensor1D);
  });
}

/**
 * Split a flat vector back into named parameters (new tensors, one per parameter, differentiable
 * through `vec`; the intermediate slices are released).
 */
export function unflattenParams(vec: tf.Tensor1D, specs: readonly ParamSpec[]): Params {
  const n = countParams(specs);
  if (vec.size !== n) throw new Error(`unflattenParams: vector has ${vec.size} values, specs need ${n}`);
  return tf.tidy(() => {
    const out: Params = {};
    let offset = 0;
    for (const s of specs) {
      const size = sizeOf(s.shape);
      out[s.name] = tf.reshape(tf.slice(vec, [offset], [size]), s.shape);
      offset += size;
    }
    return out;
  });
}

/** Host copy of a flat parameter vector. */
export function paramsToArray(params: Params, specs: readonly ParamSpec[]): Float32Array {
  const flat = flattenParams(params, specs);
  const data = flat.dataSync() as Float32Array;
  flat.dispose();
  return Float32Array.from(data);
}

/** Parameters from a host array (new tensors with their own copy of the values, owned by the caller). */
export function paramsFromArray(values: Float32Array, specs: readonly ParamSpec[]): Params {
  const n = countParams(specs);
  if (values.length !== n) throw new Error(`paramsFromArray: got ${values.length} values, specs need ${n}`);
  const out: Params = {};
  let offset = 0;
  for (const s of specs) {
    const size = sizeOf(s.shape);
    // a copy: the cpu backend would otherwise keep the caller's array as the tensor's storage
    out[s.name] = tf.tensor(values.slice(offset, offset + size), s.shape, 'float32');
    offset += size;
  }
  return out;
}

export function disposeParams(params: Params): void {
  for (const t of Object.values(params)) t.dispose();
}

export function cloneParams(params: Params): Params {
  const out: Params = {};
  for (const [k, t] of Object.entries(params)) out[k] = tf.clone(t);
  return out;
}
