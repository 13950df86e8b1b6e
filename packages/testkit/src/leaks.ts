import * as tf from '@tensorflow/tfjs-core';

function disposeResult(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeResult);
}

/**
 * Asserts that `fn` leaks no tensors: runs it once to warm up (kernels may cache constants on
 * first use), then `repeats` more times, and throws if `tf.memory().numTensors` grew. A tensor
 * (or array of tensors) that `fn` returns is disposed for it, so `() => model.apply(p, x)` can be
 * passed as is.
 */
export async function expectNoLeaks(fn: () => unknown, repeats = 3): Promise<void> {
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`expectNoLeaks: repeats must be ≥ 1, got ${repeats}`);
  disposeResult(await fn());
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) disposeResult(await fn());
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(
      `leaked tensors: ${after - before} over ${repeats} calls (${before} → ${after}); ` +
        'wrap pure computations in tf.tidy and dispose intermediate tensors',
    );
  }
}
