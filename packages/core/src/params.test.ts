import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Params, ParamSpec } from '@goldstone/plugin-api';
import './gradients';
import { cloneParams, countParams, disposeParams, flattenParams, paramsFromArray, paramsToArray, sizeOf, unflattenParams } from './params';
import { Rng } from './rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A layout with a matrix, a vector, a scalar and a 3-d tensor, listed in an order that is not the
// alphabetical one nor the order the Params object below is written in.
const specs: ParamSpec[] = [
  { name: 'w', shape: [3, 2] },
  { name: 'b', shape: [2] },
  { name: 'scale', shape: [] },
  { name: 'k', shape: [2, 1, 2] },
];
const n = 6 + 2 + 1 + 4;

function params(rng: Rng): Params {
  return {
    k: tf.tensor(rng.normalArray(4), [2, 1, 2]),
    scale: tf.scalar(rng.normal()),
    b: tf.tensor(rng.normalArray(2), [2]),
    w: tf.tensor(rng.normalArray(6), [3, 2]),
  };
}

describe('parameter layout', () => {
  it('sizeOf and countParams count scalars', () => {
    expect(sizeOf([3, 2])).toBe(6);
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([4, 0])).toBe(0);
    expect(countParams(specs)).toBe(n);
    expect(countParams([])).toBe(0);
  });
});

describe('flattenParams / unflattenParams', () => {
  it('flattens in the order of the specs and round-trips values and shapes', () => {
    const p = params(new Rng(1));
    const flat = flattenParams(p, specs);
    expect(flat.shape).toEqual([n]);
    const expected = specs.flatMap((s) => Array.from(p[s.name].dataSync()));
    expect(Array.from(flat.dataSync())).toEqual(expected);
    const back = unflattenParams(flat, specs);
    expect(Object.keys(back)).toEqual(specs.map((s) => s.name));
    for (const s of specs) {
      expect(back[s.name].shape, s.name).toEqual(s.shape);
      expect(Array.from(back[s.name].dataSync()), s.name).toEqual(Array.from(p[s.name].dataSync()));
    }
    tf.dispose([flat, ...Object.values(back)]);
    disposeParams(p);
  });

  it('leaks no tensors: one vector out of flatten, one tensor per parameter out of unflatten', () => {
    const p = params(new Rng(2));
    const before = tf.memory().numTensors;
    const flat = flattenParams(p, specs);
    expect(tf.memory().numTensors).toBe(before + 1);
    const back = unflattenParams(flat, specs);
    expect(tf.memory().numTensors).toBe(before + 1 + specs.length);
    tf.dispose(Object.values(back));
    flat.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 50; i++) {
      const f = flattenParams(p, specs);
      tf.dispose([f, ...Object.values(unflattenParams(f, specs))]);
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(p);
  });

  it('unflatten is differentiable through the vector', () => {
    // flatten(unflatten(v)) = v, so the gradient of c·flatten(unflatten(v)) is c
    const c = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => i + 1));
    const at = tf.zeros([n]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(flattenParams(unflattenParams(v as tf.Tensor1D, specs), specs), c)))(at);
    expect(Array.from(g.dataSync())).toEqual(Array.from(c.dataSync()));
    tf.dispose([c, g, at]);
  });

  it('names the parameter that is missing or has the wrong size, and a vector of the wrong length', () => {
    const p = params(new Rng(3));
    const { b, ...withoutB } = p;
    expect(() => flattenParams(withoutB, specs)).toThrow('flattenParams: missing parameter "b"');
    const wrong = { ...p, b: tf.zeros([3]) };
    expect(() => flattenParams(wrong, specs)).toThrow('flattenParams: parameter "b" has 3 values, expected shape [2]');
    const short = tf.zeros([n - 1]) as tf.Tensor1D;
    expect(() => unflattenParams(short, specs)).toThrow(`unflattenParams: vector has ${n - 1} values, specs need ${n}`);
    tf.dispose([b, wrong.b, short]);
    disposeParams(withoutB);
  });
});

function offsetOf(name: string): number {
  let o = 0;
  for (const s of specs) {
    if (s.name === name) return o;
    o += sizeOf(s.shape);
  }
  throw new Error(name);
}

describe('paramsToArray / paramsFromArray', () => {
  it('round-trip through a host array, in the order of the specs', () => {
    const p = params(new Rng(4));
    const before = tf.memory().numTensors;
    const host = paramsToArray(p, specs);
    expect(tf.memory().numTensors).toBe(before);
    expect(host).toBeInstanceOf(Float32Array);
    expect(host.length).toBe(n);
    expect(Array.from(host.subarray(offsetOf('scale'), offsetOf('scale') + 1))).toEqual(Array.from(p.scale.dataSync()));
    const q = paramsFromArray(host, specs);
    expect(tf.memory().numTensors).toBe(before + specs.length);
    expect(Array.from(paramsToArray(q, specs))).toEqual(Array.from(host));
    for (const s of specs) expect(q[s.name].shape).toEqual(s.shape);
    disposeParams(q);
    disposeParams(p);
  });

  it('returns a copy and makes tensors that do not share the host array', () => {
    const p = params(new Rng(5));
    const host = paramsToArray(p, specs);
    host.fill(0);
    expect(Array.from(p.w.dataSync()).every((x) => x === 0)).toBe(false);
    const values = Float32Array.from({ length: n }, (_, i) => i);
    const q = paramsFromArray(values, specs);
    values.fill(-1);
    expect(Array.from(paramsToArray(q, specs))).toEqual(Array.from({ length: n }, (_, i) => i));
    disposeParams(q);
    disposeParams(p);
  });

  it('refuses an array of the wrong length', () => {
    expect(() => paramsFromArray(new Float32Array(n + 1), specs)).toThrow(`paramsFromArray: got ${n + 1} values, specs need ${n}`);
  });
});

describe('cloneParams / disposeParams', () => {
  it('clones into independent tensors and disposes every one of them', () => {
    const p = params(new Rng(6));
    const values = paramsToArray(p, specs);
    const before = tf.memory().numTensors;
    const c = cloneParams(p);
    expect(Object.keys(c).sort()).toEqual(Object.keys(p).sort());
    expect(tf.memory().numTensors).toBe(before + specs.length);
    // the clone outlives the original
    disposeParams(p);
    expect(Object.values(p).every((t) => t.isDisposed)).toBe(true);
    expect(Array.from(paramsToArray(c, specs))).toEqual(Array.from(values));
    disposeParams(c);
    expect(Object.values(c).every((t) => t.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before - specs.length);
  });
});
