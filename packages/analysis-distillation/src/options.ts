import { z } from 'zod';
import { ACTIVATIONS, sizeOf, type ActivationName } from '@goldstone/core';
import { mlpParamCount } from '@goldstone/models';
import { checkSplit, formatBytes, formatCount, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

export const distillationOptions = z.strictObject({
  /** Hidden widths of each student MLP (one entry per student, smallest first is conventional). */
  students: z.array(z.array(z.number().int().positive())).min(1).default([[4], [16], [64]]).describe('Hidden widths of each student MLP (one entry per student)'),
  /** The students' activation. */
  activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('relu').describe("The students' activation"),
  /** Softening temperature T of the teacher's outputs (classification and binary; ignored for regression). */
  temperature: z.number().positive().default(2).describe("Softening temperature T of the teacher's outputs (classification and binary; ignored for regression)"),
  /** Weight a of the teacher in Hinton's loss (1 − a)·L(student, labels) + a·T²·KL(teacher/T ‖ student/T); 1: teacher only. */
  alpha: z.number().min(0).max(1).default(0.9).describe("Weight a of the teacher in Hinton's loss (1 − a)·L(labels) + a·T²·KL(teacher ‖ student) at temperature T"),
  /** The split whose inputs the teacher labels (the distillation pool). */
  poolSplit: z.string().default('train').describe('The split whose inputs the teacher labels (the distillation pool)'),
  /** Fractions of the pool used in the sample-size sweep (on the largest student). */
  sampleFractions: z.array(z.number().gt(0).max(1)).min(1).default([0.1, 0.3, 1]).describe('Fractions of the pool used in the sample-size sweep (on the largest student)'),
  /** The split students and teacher are compared on. */
  split: z.string().default('test').describe('The split students and teacher are compared on'),
  /** At most this many examples of the evaluation split (a seeded random subset when larger). */
  maxExamples: z.number().int().positive().default(1024).describe('At most this many examples of the evaluation split (a seeded random subset when larger)'),
  /** Student training (core's trainer): epochs, batch size, optimiser, learning rate. */
  epochs: z.number().int().positive().default(30).describe('Training epochs of each student'),
  batchSize: z.number().int().positive().default(32).describe('Batch size of student training'),
  optimizer: z.enum(['sgd', 'adam', 'adamw']).default('adam').describe('Optimiser of student training'),
  lr: z.number().positive().default(0.01).describe('Learning rate of student training'),
  /** Fidelity a student must reach to count in the efficiency summary. */
  fidelityTarget: z.number().gt(0).max(1).default(0.95).describe('Fidelity a student must reach to count in the efficiency summary'),
});

export type DistillationOptions = z.output<typeof distillationOptions>;

/** Float32 copies of a student's parameters while it trains (parameters, gradients, Adam's two moments). */
const STUDENT_COPIES = 4;

/** The `check` hook: the pool and evaluation splits exist, and every student fits in memory to train. */
export function distillationIssues(o: DistillationOptions, { task, memoryLimit }: Pick<AnalysisCheckContext, 'task' | 'memoryLimit'>): OptionIssue[] {
  const issues = [...checkSplit(task, 'poolSplit', o.poolSplit), ...checkSplit(task, 'split', o.split)];
  const inputs = sizeOf(task.inputShape);
  o.students.forEach((hidden, i) => {
    const params = mlpParamCount(inputs, hidden, task.outputSize, true);
    const bytes = 4 * STUDENT_COPIES * params;
    if (bytes > memoryLimit) {
      issues.push({ field: `students[${i}]`, message: `the student [${hidden.join(', ')}] would have ${formatCount(params)} parameters (~${formatBytes(bytes)} to train), more than the memory limit of ${formatBytes(memoryLimit)}` });
    }
  });
  return issues;
}
