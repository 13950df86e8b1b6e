/**
 * Gradient registration, once, for every module of core that differentiates.
 *
 * tfjs-core's Node entry (`dist/tf-core.node.js`, CommonJS) registers no gradients and no chained
 * ops (`tensor.sum()` and the like). Both are registered by two modules of its ES build,
 * `dist/register_all_gradients.js` and `dist/public/chained_ops/register_all_chained_ops.js`, which
 * plain Node cannot load (extensionless imports, in a package that is not `"type": "module"`). So
 * the build bundles them, with the ES ops they use, into core's dist (`noExternal` in
 * tsup.config.ts), and vitest transforms them from node_modules (it inlines ES files of a CommonJS
 * package). tfjs keeps its engine, its kernel and gradient registries and its Tensor class on a
 * global object (and `instanceof Tensor` checks shape, not class), so the bundled copies register
 * into the one engine created by `@tensorflow/tfjs-core`, which must be imported first. This is
 * what the `@tensorflow/tfjs` union does, without its layers, converter, data and webgl packages.
 */
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
