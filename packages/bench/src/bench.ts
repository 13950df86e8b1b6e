// Entry point from source (`node --import tsx src/bench.ts`): JSON on stdout, progress on stderr.
// `pnpm bench` runs the built package instead (tsx 4.23 cannot load tfjs-core's ESM build).
import { main } from './run';

await main();
