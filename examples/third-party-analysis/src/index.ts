export { weightNorms } from './weight-norms';
import { weightNorms } from './weight-norms';

/** goldstone loads a module's `plugins` export. */
export const plugins = [weightNorms];
