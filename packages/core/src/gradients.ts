/**
 * Gradient registration, once, for every module of core that differentiates.
 *
 * tfjs-core's Node entry (`dist/tf-core.node.js`) registers no gradients: they live only in its ES
 * build (`dist/register_all_gradients.js`, which Node cannot load: its imports have no extensions)
 * and in the bundle of the union package `@tensorflow/tfjs`. Importing the union package registers
 * every gradient into the one shared engine; it costs about 60 ms and creates no backend.
 */
import '@tensorflow/tfjs';
