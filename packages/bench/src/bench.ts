// Entry point of `pnpm bench`: JSON on stdout, progress on stderr.
import { main } from './run';

await main();
