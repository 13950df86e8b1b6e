/** How a block-mlp's sites group into blocks, and the widths of its dense chain. */
export interface BlockLayout {
  sites: number;
  block: number;
  blocks: number;
  tied: boolean;
  shared: boolean;
  /** Widths [in, ...hidden, out] of the dense chain (per block when shared). */
  dims: number[];
  /** Outputs per block (shared) or total. */
  k: number;
}
