import type { OutputKind } from '@goldstone/plugin-api';
import { argmaxRow } from '@goldstone/core';

/**
 * Agreement of a student with its teacher, from their raw outputs (logits or values, rows of
 * `outputs`): the fraction of examples with the same predicted class (classification: argmax;
 * binary: the sign of the logit), or for regression R² of the student against the teacher,
 * 1 − Σ(s − t)²/Σ(t − t̄)² (1 = identical functions on these inputs).
 */
export function fidelity(kind: OutputKind, student: ArrayLike<number>, teacher: ArrayLike<number>, outputs: number): number {
  const n = Math.round(teacher.length / outputs);
  if (kind === 'classification') {
    let same = 0;
    for (let i = 0; i < n; i++) if (argmaxRow(student, i, outputs) === argmaxRow(teacher, i, outputs)) same++;
    return same / n;
  }
  if (kind === 'binary') {
    let same = 0;
    for (let i = 0; i < n; i++) if (student[i] > 0 === teacher[i] > 0) same++;
    return same / n;
  }
  let res = 0;
  let tot = 0;
  for (let j = 0; j < outputs; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += teacher[i * outputs + j] / n;
    for (let i = 0; i < n; i++) {
      res += (student[i * outputs + j] - teacher[i * outputs + j]) ** 2;
      tot += (teacher[i * outputs + j] - mean) ** 2;
    }
  }
  return tot > 0 ? 1 - res / tot : res === 0 ? 1 : 0;
}

/** Mean squared difference of the raw outputs (logits or values) of student and teacher. */
export function outputMse(student: ArrayLike<number>, teacher: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < teacher.length; i++) s += (student[i] - teacher[i]) ** 2;
  return s / teacher.length;
}

/**
 * The teacher's soft targets from its raw outputs: softmax(z/T) rows (classification), σ(z/T)
 * (binary), or the outputs themselves (regression).
 */
export function softTargets(kind: OutputKind, outputs: ArrayLike<number>, width: number, temperature: number): Float32Array {
  const out = new Float32Array(outputs.length);
  if (kind === 'regression') {
    out.set(outputs);
    return out;
  }
  if (kind === 'binary') {
    for (let i = 0; i < outputs.length; i++) out[i] = 1 / (1 + Math.exp(-outputs[i] / temperature));
    return out;
  }
  const n = outputs.length / width;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, outputs[i * width + j] / temperature);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += Math.exp(outputs[i * width + j] / temperature - max);
    for (let j = 0; j < width; j++) out[i * width + j] = Math.exp(outputs[i * width + j] / temperature - max) / sum;
  }
  return out;
}
