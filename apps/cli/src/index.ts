// Public surface of @goldstone/cli: the program (for embedding and tests) and its built-in plugin map.
export { createProgram, main } from './program';
export { BUILTIN_PLUGINS, SWEEP_EXECUTORS } from './builtins';
