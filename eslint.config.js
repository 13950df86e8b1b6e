export { default } from '@goldstone/eslint-config';
