import { mnist } from './mnist';

export { mnist, mnistOptions, classificationMetrics, type MnistOptions } from './mnist';
export { loadDigits, stratifiedOrder, IMAGE_SIZE, PIXELS, TOTAL_DIGITS, type MnistDigits } from './digits';

/** The plugins this package provides. */
export const plugins = [mnist];
