import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor, Variable } from '@tensorflow/tfjs-core';

type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];
import { ADAM_KERNEL } from './kernels/training.js';
import { BACKEND_NAME } from './register.js';

interface AdamInternals {
  accumulatedFirstMoment: { originalName: string; variable: Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: Variable }[];
  accBeta1: Variable;
  accBeta2: Variable;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * tfjs's Adam with one native kernel per variable on the `native` backend
 * (tfjs runs about 14 elementwise kernels per variable, each a pass over
 * memory). Same class name, config, weights and float32 arithmetic as
 * tf.train.adam, so models compiled with it save, load and train exactly the
 * same; on other backends it simply is tf.train.adam.
 */
export class NativeAdam extends tf.AdamOptimizer {
  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  static override get className(): string {
    return 'Adam';
  }

  override applyGradients(variableGradients: VariableGradients): void {
    if (tf.getBackend() !== BACKEND_NAME) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // The bias corrections, computed in float32 exactly as tfjs does: sub(1, accBeta).
    const bias1 = Math.fround(1 - self.accBeta1.dataSync()[0]!);
    const bias2 = Math.fround(1 - self.accBeta2.dataSync()[0]!);
    const params = [self.learningRate, self.beta1, self.beta2, 1 - self.beta1, 1 - self.beta2, self.epsilon, bias1, bias2];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        const gradient: Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [w2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { w: value, m, v, g: gradient }, { params } as unknown as NamedAttrMap) as Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.incrementIterations();
  }
}

tf.serialization.registerClass(NativeAdam);
