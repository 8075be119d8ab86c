/**
 * Implemented by dlopt's layers so `dlopt summary` can count their cost: the
 * floating-point operations of one inference pass for one example, by the
 * convention of models/flops.ts (a multiply-add is 2; an elementwise
 * operation 1). Valid once the layer is built.
 */
export interface CountsFlops {
  flopsPerExample(): number;
}

export function countsFlops(layer: object): layer is CountsFlops {
  return typeof (layer as Partial<CountsFlops>).flopsPerExample === 'function';
}
