// Entry point of `pnpm bench`: JSON on stdout, progress on stderr.
import { register } from 'node:module';

// Must run before anything imports tfjs-core's ESM files (see tfjs-esm-hooks.mjs).
register('./tfjs-esm-hooks.mjs', import.meta.url);

const { main } = await import('./run');
await main();
