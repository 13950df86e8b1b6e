export { silentProgress } from '@goldstone/core';
