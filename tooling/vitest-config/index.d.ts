import type { UserConfig } from 'vitest/config';
/** Time-out of one test and of one hook (ms): generous, so that only a hang fails. */
export declare const TEST_TIMEOUT_MS: number;
export declare function preset(test?: UserConfig['test']): UserConfig;
