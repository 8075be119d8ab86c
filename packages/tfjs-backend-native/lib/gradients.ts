import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { reluMaskedGrads, reluOutputs } from './fusion.js';
import { MAX_POOL_GRAD_RELU_KERNEL } from './kernels/pool.js';
import { BACKEND_NAME } from './register.js';

export const RELU_GRAD_KERNEL = 'DloptReluGrad';

type GradFunc = GradConfig['gradFunc'];

/**
 * Replaces a kernel's gradient on the native backend only; elsewhere tfjs's
 * own gradient runs. The same tensors are saved as tfjs saves (inputs, then
 * outputs), so either gradient finds what it expects.
 */
function overrideOnNative(kernelName: string, native: (original: GradFunc) => GradFunc): void {
  const original = tf.getGradient(kernelName);
  if (!original) return;
  const replacement = native(original.gradFunc);
  tf.registerGradient({
    kernelName,
    ...(original.inputsToSave && { inputsToSave: original.inputsToSave }),
    ...(original.outputsToSave && { outputsToSave: original.outputsToSave }),
    gradFunc: (dy, saved, attrs) =>
      tf.getBackend() === BACKEND_NAME ? replacement(dy, saved, attrs) : original.gradFunc(dy, saved, attrs),
  });
}

function isDilated(dilations: unknown): boolean {
  return Array.isArray(dilations) ? dilations.some((d) => d !== 1) : dilations !== undefined && dilations !== 1;
}

let installed = false;

/**
 * Gradients the native backend does better than tfjs:
 * - Conv2D and DepthwiseConv2dNative with dilation > 1: tfjs-core refuses to
 *   differentiate them ("dilation rates greater than 1 are not yet supported in
 *   gradients"); the native backprop kernels handle any dilation.
 * - Relu: one kernel (dy where x > 0) instead of Step, Cast and Multiply.
 * - MaxPool of a fused conv's relu output: the relu's derivative is applied by
 *   the max-pool gradient (a window whose maximum is not positive gets none),
 *   and the result is marked so the conv's gradient does not read its output
 *   again to apply it (conv1's output is 7 MB at batch 64: memory traffic is
 *   what its backward pass costs). If the relu output feeds anything else, the
 *   conv receives a sum of gradients, which is not marked: correct either way.
 */
export function installGradients(): void {
  if (installed) return;
  installed = true;
  const engine = () => tf.engine();

  overrideOnNative('Conv2D', (original) => (dy, saved, attrs) => {
    const [x, filter] = saved as [Tensor, Tensor];
    const a = attrs as unknown as tf.Conv2DAttrs;
    if (!isDilated(a.dilations) || (a.dataFormat ?? 'NHWC') !== 'NHWC') return original(dy, saved, attrs);
    const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, dilations: a.dilations };
    return {
      x: () => engine().runKernel('Conv2DBackpropInput', { dy: dy as Tensor, filter }, { ...common, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
      filter: () => engine().runKernel('Conv2DBackpropFilter', { x, dy: dy as Tensor }, { ...common, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
    };
  });

  overrideOnNative('DepthwiseConv2dNative', (original) => (dy, saved, attrs) => {
    const [x, filter] = saved as [Tensor, Tensor];
    const a = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
    if (!isDilated(a.dilations)) return original(dy, saved, attrs);
    const common = { strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode, dilations: a.dilations };
    return {
      x: () => engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy as Tensor, filter }, { ...common, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
      filter: () => engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy as Tensor }, { ...common, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
    };
  });

  overrideOnNative('MaxPool', (original) => (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    if (!reluOutputs.has(x.dataId) || x.dtype !== 'float32' || (dy as Tensor).dtype !== 'float32') return original(dy, saved, attrs);
    return {
      x: () => {
        const dx = engine().runKernel(MAX_POOL_GRAD_RELU_KERNEL, { dy: dy as Tensor, input: x }, attrs) as Tensor;
        reluMaskedGrads.set(dx.dataId, x.dataId);
        return dx;
      },
    };
  });

  overrideOnNative('Relu', (original) => (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    // The native kernel covers float32 up to rank 6, like the elementwise kernels it shares.
    if (x.dtype !== 'float32' || (dy as Tensor).dtype !== 'float32' || x.rank > 6) return original(dy, saved, attrs);
    return { x: () => engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as Tensor, x }) as Tensor };
  });
}
