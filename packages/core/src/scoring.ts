import * as tf from '@tensorflow/tfjs-core';
import { higherIsBetter, primaryMetric, type MetricName, type Split, type Params, type ModelInstance, type OutputKind } from '@goldstone/plugin-api';

export { higherIsBetter, primaryMetric, type MetricName };


/**
 * The exact area under the ROC curve of `scores` for 0/1 `labels`, by ranking (Mann–Whitney U with
 * ties given their average rank). 0.5 when one class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] > 0.5) {
      pos++;
      rankSum += ranks[i];
    }
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return 0.5;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Metrics of host predictions against host targets (rows of `outputs` values): `accuracy` for
 * classification (argmax against argmax of one-hot rows); `accuracy` (logit > 0) and `auc` for
 * binary; `mse` (mean over all values) for regression.
 */
export function scoreArrays(kind: OutputKind, pred: ArrayLike<number>, y: ArrayLike<number>, outputs: number): Record<string, number> {
  const n = Math.round(y.length / outputs);
  if (kind === 'regression') {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
    return { mse: s / y.length };
  }
  if (kind === 'binary') {
    let correct = 0;
    for (let i = 0; i < n; i++) if (pred[i] > 0 === y[i] > 0.5) correct++;
    return { accuracy: correct / n, auc: auc(Array.from({ length: n }, (_, i) => pred[i]), y) };
  }
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmaxRow(pred, i, outputs) === argmaxRow(y, i, outputs)) correct++;
  return { accuracy: correct / n };
}

export function argmaxRow(a: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (a[row * width + j] > a[row * width + best]) best = j;
  return best;
}

/** `scoreArrays` of tensors (read back to the host). */
export function scoreTensors(kind: OutputKind, pred: tf.Tensor, y: tf.Tensor): Record<string, number> {
  const outputs = pred.shape.length > 1 ? pred.size / pred.shape[0] : 1;
  return scoreArrays(kind, pred.dataSync(), y.dataSync(), outputs);
}

/**
 * The primary metric of a predictor that ignores its input (chance): the majority-class accuracy,
 * an AUC of 0.5, or the MSE of predicting each output's mean.
 */
export function chanceScore(kind: OutputKind, y: ArrayLike<number>, outputs: number): number {
  const n = Math.round(y.length / outputs);
  if (kind === 'binary') return 0.5;
  if (kind === 'classification') {
    const counts = new Float64Array(outputs);
    for (let i = 0; i < n; i++) counts[argmaxRow(y, i, outputs)]++;
    return Math.max(...counts) / n;
  }
  let s = 0;
  for (let j = 0; j < outputs; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += y[i * outputs + j] / n;
    for (let i = 0; i < n; i++) s += (y[i * outputs + j] - m) ** 2;
  }
  return s / y.length;
}

/** The model's outputs on a host split, `batchSize` rows at a time, as a host array. */
export function predictSplit(model: ModelInstance, params: Params, split: Split, batchSize = 1024): Float32Array {
  const chunks: Float32Array[] = [];
  const rowSize = split.xShape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < split.n; start += batchSize) {
    const m = Math.min(batchSize, split.n - start);
    const out = tf.tidy(() => {
      const x = tf.tensor(split.x.subarray(start * rowSize, (start + m) * rowSize), [m, ...split.xShape], 'float32');
      return model.apply(params, x);
    });
    chunks.push(Float32Array.from(out.dataSync() as Float32Array));
    out.dispose();
  }
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return all;
}

/**
 * Whether `value` is within `tolerance` of `base`: for accuracy and AUC an absolute drop of at most
 * `tolerance`; for MSE a relative increase of at most `tolerance` (mse ≤ base·(1 + tolerance)).
 */
export function withinTolerance(metric: MetricName, base: number, value: number, tolerance: number): boolean {
  if (!Number.isFinite(value)) return false;
  return higherIsBetter(metric) ? value >= base - tolerance : value <= base * (1 + tolerance) + 1e-12;
}
