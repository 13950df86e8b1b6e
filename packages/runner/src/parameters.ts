import type { Json } from '@goldstone/plugin-api';

/** Which parameters an analysis ran on: stamped on every stored result as `provenance.parameters`. */
export interface ParametersUsed {
  /** `trained`: the parameters training ended with; `checkpoint <tag>`: read back from a checkpoint. */
  source: string;
  epoch?: number;
  step?: number;
  [key: string]: Json | undefined;
}
