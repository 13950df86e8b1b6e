import { analysisSource } from './analysis-plugin';
import { modelSource } from './model-plugin';
import type { PluginNames } from './names';
import { taskSource } from './task-plugin';

/** The versions a new plugin package is written against: those of the running CLI. */
export interface TemplateVersions {
  pluginApi: string;
  core: string;
  testkit: string;
  tfjsCore: string;
  tfjsBackendCpu: string;
}

/**
 * The build and test tools of a new plugin package (and Node's types, for `import.meta.url`): the versions goldstone itself builds with
 * (its pnpm catalog; a test holds them equal), the newest that run on Node 20 (tsup 9 and vitest 5
 * need Node 22; TypeScript 7 breaks tsup's declaration build).
 */
export const TOOL_VERSIONS = { '@types/node': '^20.19.0', tsup: '8.5.1', typescript: '~5.9.3', vitest: '~4.1.0' } as const;

const DESCRIPTION = {
  analysis: 'A goldstone analysis: loss, gradient norm and curvature along the gradient at the trained parameters, per split.',
  task: 'A goldstone task: the displacement of a damped oscillator, with an out-of-distribution split of faster oscillators.',
  model: 'A goldstone model: a one-hidden-layer perceptron with second-order-safe activations.',
} as const;

function packageJson(names: PluginNames, v: TemplateVersions): string {
  const pkg = {
    name: names.packageName,
    version: '0.1.0',
    description: DESCRIPTION[names.kind],
    keywords: ['goldstone', 'goldstone-plugin', `goldstone-${names.kind}`],
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' },
      './package.json': './package.json',
    },
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
    engines: { node: '>=20.19' },
    scripts: { build: 'tsup', typecheck: 'tsc', test: 'vitest run', prepublishOnly: 'npm run build' },
    peerDependencies: {
      '@goldstone/core': `^${v.core}`,
      '@goldstone/plugin-api': `^${v.pluginApi}`,
      '@tensorflow/tfjs-core': `^${v.tfjsCore}`,
    },
    devDependencies: {
      '@goldstone/core': `^${v.core}`,
      '@goldstone/plugin-api': `^${v.pluginApi}`,
      '@goldstone/testkit': `^${v.testkit}`,
      '@tensorflow/tfjs-backend-cpu': `^${v.tfjsBackendCpu}`,
      '@tensorflow/tfjs-core': `^${v.tfjsCore}`,
      '@types/node': TOOL_VERSIONS['@types/node'],
      tsup: TOOL_VERSIONS.tsup,
      typescript: TOOL_VERSIONS.typescript,
      vitest: TOOL_VERSIONS.vitest,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      skipLibCheck: true,
      isolatedModules: true,
      types: ['node'],
      noEmit: true,
    },
    include: ['src', 'test'],
  },
  null,
  2,
)}\n`;

const TSUP_CONFIG = `import { defineConfig } from 'tsup';

// ESM with type declarations. Dependencies and peer dependencies stay external: the plugin uses
// the host's tfjs engine and goldstone packages, never a bundled copy.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
});
`;

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

// The conformance checks train and analyse small models several times: generous time-outs, so
// that the tests pass on a busy machine too.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
`;

const GITIGNORE = 'node_modules/\ndist/\nruns/\n';

function experiment({ kind, plugin }: PluginNames): string {
  const head = `# A goldstone experiment with this package's ${kind} (build it first: npm run build).
#
#   goldstone run experiment.yaml --out runs/${plugin}
#   goldstone run experiment.yaml --quick --out runs/${plugin}-quick   (a smaller run)
name: ${plugin}
seed: 1
# This folder: goldstone imports what its package.json exports (dist/index.js).
plugins: [.]
`;
  const body = {
    analysis: `task: { name: clt, options: { sites: 8, block: 2, trainSize: 512, testSize: 256 } }
model: { name: mlp, options: { hidden: [16], activation: tanh } }
train: { optimizer: adam, lr: 0.003, epochs: 10, batchSize: 64 }
analyses:
  - name: ${plugin}
    options: { splits: [train, test] }
quick:
  train: { epochs: 2 }
`,
    task: `task: { name: ${plugin}, options: { trainSize: 1024, testSize: 256, damping: 0.3 } }
model: { name: mlp, options: { hidden: [32, 32], activation: tanh } }
train: { optimizer: adam, lr: 0.01, epochs: 30, batchSize: 64 }
quick:
  task: { options: { trainSize: 256, testSize: 64 } }
  train: { epochs: 2 }
`,
    model: `task: { name: clt, options: { sites: 8, block: 2, trainSize: 512, testSize: 256 } }
model: { name: ${plugin}, options: { hidden: 16, activation: tanh } }
train: { optimizer: adam, lr: 0.003, epochs: 10, batchSize: 64 }
quick:
  model: { options: { hidden: 4 } }
  train: { epochs: 2 }
`,
  }[kind];
  return head + body;
}

function readme(names: PluginNames): string {
  const { kind, packageName, plugin, identifier } = names;
  const what = {
    analysis: `the analysis \`${plugin}\`: at the trained parameters, the loss, the norm of its gradient and the curvature of the loss along the gradient (gᵀHg/gᵀg, a Hessian-vector product) on every split of the task, with headline numbers and a figure.`,
    task: `the task \`${plugin}\`: predict the displacement x(t) = exp(−γt)·cos(ωt) of a damped oscillator from (t, ω), trained on ω ∈ [1, 2], with a test split from the same range and an out-of-distribution split \`ood-fast\` with ω ∈ [2, 3].`,
    model: `the model \`${plugin}\`: a one-hidden-layer perceptron y = act(x·W1 + b1)·W2 + b2 written as a pure function of its named parameters, with the second-order-safe activations of \`@goldstone/core\`.`,
  }[kind];
  return `# ${packageName}

A goldstone ${kind} plugin: ${what}

Made with \`goldstone create plugin ${packageName} --kind ${kind}\`. The plugin guide
(docs/plugin-guide.md in the goldstone repository) explains every part of it.

## Build and test

\`\`\`sh
npm install        # goldstone's packages, TensorFlow.js and the build tools
npm run build      # tsup: dist/index.js and dist/index.d.ts
npm test           # vitest: the testkit's conformance suite and the plugin's own tests
npm run typecheck  # tsc --noEmit over src/ and test/
\`\`\`

## Run it

With the goldstone CLI installed (\`npm install -g @goldstone/cli\`), from this folder:

\`\`\`sh
goldstone run experiment.yaml --out runs/${plugin}
goldstone list ${plugin}          # its options, from its schema
\`\`\`

\`experiment.yaml\` loads this folder by path (\`plugins: [.]\`; a path is relative to the experiment
file). Once the package is published, other experiments load it by name:
\`plugins: [${packageName}]\` after \`npm install ${packageName}\`. goldstone loads the plugin
with its own copy of TensorFlow.js and goldstone's packages (the peer dependencies), even when
this folder's \`node_modules\` holds copies of its own.

## Layout

- \`src/index.ts\`: the plugin (\`${identifier}\`) and \`export const plugins = [${identifier}]\`, what goldstone loads.
- \`test/plugin.test.ts\`: \`testPlugin(${identifier})\` from \`@goldstone/testkit\` and tests of what it computes.
- \`experiment.yaml\`: an experiment that uses it.
- \`tsup.config.ts\`, \`tsconfig.json\`, \`vitest.config.ts\`: build, type check, tests.

## Compatibility

Node ≥ 20.19, ESM only. Plugin API version 1 (\`API_VERSION\` of \`@goldstone/plugin-api\`): goldstone
refuses a plugin written for another version. \`@goldstone/plugin-api\`, \`@goldstone/core\` and
\`@tensorflow/tfjs-core\` are peer dependencies: the host provides them.

## License

MIT
`;
}

/** Every file of a new plugin package, by path relative to its folder. */
export function pluginPackageFiles(names: PluginNames, versions: TemplateVersions): Record<string, string> {
  const source = { analysis: analysisSource, task: taskSource, model: modelSource }[names.kind](names);
  const index = `${source.index}
/** goldstone loads a module's \`plugins\` export. */
export const plugins = [${names.identifier}];
`;
  return {
    'package.json': packageJson(names, versions),
    'tsconfig.json': TSCONFIG,
    'tsup.config.ts': TSUP_CONFIG,
    'vitest.config.ts': VITEST_CONFIG,
    '.gitignore': GITIGNORE,
    'src/index.ts': index,
    'test/plugin.test.ts': source.test,
    'experiment.yaml': experiment(names),
    'README.md': readme(names),
  };
}
