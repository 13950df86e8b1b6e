// Public surface of @goldstone/cli: the program, for embedding and tests.
export { createProgram, main } from './program';
export { loadExperimentFile, parseAssignments, readConfigFile } from './config-file';
