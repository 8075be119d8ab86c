import * as tfl from '@tensorflow/tfjs-layers';

/**
 * tfjs-layers 4.22's SeparableConv2D leaves `depthMultiplier` out of its
 * config, so a saved model with a multiplier above 1 reloads with 1 and its
 * weights no longer fit. Adding the field back to the class's getConfig makes
 * such models round-trip (the constructor already reads it). Applied once,
 * when dlopt's layers are registered.
 */
export function fixSeparableConvConfig(): void {
  const probe = tfl.layers.separableConv2d({ filters: 1, kernelSize: 1 });
  const proto = Object.getPrototypeOf(probe) as { getConfig(this: { depthMultiplier: number }): Record<string, unknown>; __dloptFixed?: true };
  if (proto.__dloptFixed) return;
  const original = proto.getConfig;
  proto.getConfig = function (this: { depthMultiplier: number }) {
    return { ...original.call(this), depthMultiplier: this.depthMultiplier };
  };
  proto.__dloptFixed = true;
}
