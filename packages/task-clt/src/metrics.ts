import type * as tf from '@tensorflow/tfjs-core';
import { sampleCumulants } from './cumulants';

/**
 * Regression metrics of predictions against targets, computed on the host in float64:
 * `mse`, `rmse`, `maxAbsError`, `r2` (1 − SS_res/SS_tot with per-output means; 1 for a perfect fit,
 * 0 for predicting each output's mean) and, with at least 4 values, the k-statistics `predK2`,
 * `predK3`, `predK4` of all predicted values pooled (to compare with the task's `info.cumulants.target`).
 */
export function regressionMetrics(pred: tf.Tensor, y: tf.Tensor): Record<string, number> {
  if (pred.size !== y.size) throw new RangeError(`metrics: prediction has ${pred.size} values, targets ${y.size}`);
  const p = pred.dataSync();
  const t = y.dataSync();
  const n = t.length;
  const width = y.rank >= 2 ? y.size / y.shape[0] : 1;
  const rows = n / width;
  const colMean = new Float64Array(width);
  for (let i = 0; i < n; i++) colMean[i % width] += t[i];
  for (let j = 0; j < width; j++) colMean[j] /= rows;
  let ssRes = 0;
  let ssTot = 0;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const e = p[i] - t[i];
    ssRes += e * e;
    const d = t[i] - colMean[i % width];
    ssTot += d * d;
    if (Math.abs(e) > maxAbs) maxAbs = Math.abs(e);
  }
  const mse = n > 0 ? ssRes / n : 0;
  const out: Record<string, number> = {
    mse,
    rmse: Math.sqrt(mse),
    maxAbsError: maxAbs,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0,
  };
  if (n >= 4) {
    const [, k2, k3, k4] = sampleCumulants(p);
    out.predK2 = k2;
    out.predK3 = k3;
    out.predK4 = k4;
  }
  return out;
}
