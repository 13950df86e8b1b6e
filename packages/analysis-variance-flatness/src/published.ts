/**
 * Published values (Feng & Tu, PNAS 2021, arXiv 2001.01678) the results are compared with: ψ, γ of
 * the rank-ordered variance, the top PCs and their variance fraction, and the setting they were
 * measured in (α, B, 60,000 MNIST training digits, a window of ~10 epochs late in training).
 */
export const PUBLISHED = {
  psi: 4,
  gamma: [2, 3],
  topPcs: 35,
  topFraction: 0.9,
  setting: { lr: 0.1, batchSize: 50, trainDigits: 60000, windowEpochs: 10 },
} as const;

/** Whether a setting is the published one in α and B (the training-set size aside). */
export function isPublishedSetting(s: { lr: number | null; batchSize: number | null }): boolean {
  return s.lr !== null && Math.abs(s.lr - PUBLISHED.setting.lr) < 1e-12 && s.batchSize === PUBLISHED.setting.batchSize;
}
