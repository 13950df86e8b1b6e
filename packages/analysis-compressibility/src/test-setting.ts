// Small trained models for this package's tests (not part of the public surface).
import type { ModelInstance, Params, TaskInstance } from '@goldstone/core';
import { createMlp, type MlpOptions } from '@goldstone/models';
import { trainedModel } from '@goldstone/testkit';

export { blobsTask } from '@goldstone/testkit';

/** An mlp from @goldstone/models trained on `task` with Adam (the real trainer). The caller owns params. */
export async function trainedMlp(
  task: TaskInstance,
  options: Partial<MlpOptions> = {},
  settings: { epochs?: number; lr?: number; seed?: number } = {},
): Promise<{ model: ModelInstance; params: Params }> {
  const model = createMlp(
    { hidden: [8], activation: 'tanh', bias: true, init: 'auto', initScale: 0.1, ...options },
    { inputShape: task.inputShape, outputSize: task.outputSize },
  );
  return { model, params: await trainedModel(task, model, settings) };
}
