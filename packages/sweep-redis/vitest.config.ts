import { defineConfig } from 'vitest/config';
import { preset } from '@goldstone/vitest-config';
export default defineConfig(preset());
