export { silentProgress } from '@goldstone/plugin-api';
