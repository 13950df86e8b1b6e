// Public surface of @goldstone/run-store: named re-exports only. The run directory (store and checkpoints; tensor-free format readers: ./format).
export { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint } from './checkpoint';
export type { CheckpointManifest, LoadedCheckpoint } from './checkpoint';
export { RunStore } from './store';
