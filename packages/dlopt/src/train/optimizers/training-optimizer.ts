import * as tf from '@tensorflow/tfjs-core';

type VariableGradients = Parameters<tf.Optimizer['applyGradients']>[0];
const EXACT_STATE_KEYS = ['accBeta1', 'accBeta2'];
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

export interface TrainingOptimizerOptions {
  /** Decoupled weight decay (AdamW / SGDW): each step w ← w·(1 − lr·weightDecay) before the update. */
  weightDecay?: number;
  /** Rescale all gradients together when their global L2 norm exceeds this. */
  clipNorm?: number;
  /** Clip each gradient element to [−clipValue, clipValue]. */
  clipValue?: number;
}

/**
 * Wraps a tfjs optimizer with what tfjs lacks: decoupled weight decay,
 * gradient clipping (by global norm or by value), and a learning rate the
 * training loop can change every step (schedules). tfjs-layers calls
 * `minimize`, which calls `applyGradients` here; the inner optimizer's own
 * update, state and serialisation are unchanged.
 *
 * Weight decay applies to kernels (rank ≥ 2), not to biases or normalisation
 * parameters, as timm and most training recipes do.
 */
export class TrainingOptimizer extends tf.Optimizer {
  readonly weightDecay: number;
  readonly clipNorm: number | undefined;
  readonly clipValue: number | undefined;

  constructor(
    readonly inner: tf.Optimizer,
    options: TrainingOptimizerOptions = {},
  ) {
    super();
    const { weightDecay = 0, clipNorm, clipValue } = options;
    if (!(weightDecay >= 0)) throw new RangeError(`weightDecay must be >= 0 but got ${weightDecay}`);
    if (clipNorm !== undefined && !(clipNorm > 0)) throw new RangeError(`clipNorm must be > 0 but got ${clipNorm}`);
    if (clipValue !== undefined && !(clipValue > 0)) throw new RangeError(`clipValue must be > 0 but got ${clipValue}`);
    this.weightDecay = weightDecay;
    this.clipNorm = clipNorm;
    this.clipValue = clipValue;
  }

  static get className(): string {
    return 'DloptTrainingOptimizer';
  }

  /**
   * A real class check. tfjs gives tf.Optimizer a duck-typed instanceof (any
   * object with minimize, computeGradients and applyGradients) that subclasses
   * inherit: without this, every tfjs optimizer is `instanceof TrainingOptimizer`.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  }

  get learningRate(): number {
    return (this.inner as unknown as { learningRate: number }).learningRate;
  }

  set learningRate(lr: number) {
    const inner = this.inner as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
    // SGD and momentum cache −lr as a tensor; setLearningRate refreshes it.
    if (typeof inner.setLearningRate === 'function') inner.setLearningRate(lr);
    else inner.learningRate = lr;
  }

  override applyGradients(variableGradients: VariableGradients): void {
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const clipped = tf.tidy(() => this.clip(named.map((g) => g.tensor)));
    try {
      if (this.weightDecay > 0) {
        const factor = 1 - this.learningRate * this.weightDecay;
        tf.tidy(() => {
          for (const { name } of named) {
            const variable = tf.engine().registeredVariables[name];
            if (variable && variable.rank >= 2) variable.assign(tf.mul(variable, factor));
          }
        });
      }
      this.inner.applyGradients(named.map((g, i) => ({ name: g.name, tensor: clipped[i]! })));
    } finally {
      // Clipping made new tensors only when it changed something.
      tf.dispose(clipped.filter((t, i) => t !== named[i]!.tensor));
    }
    this.incrementIterations();
  }

  /** Gradients after clipping (run inside tidy); the same tensors when no clipping applies. */
  private clip(grads: tf.Tensor[]): tf.Tensor[] {
    let out = grads;
    if (this.clipValue !== undefined) out = out.map((g) => tf.clipByValue(g, -this.clipValue!, this.clipValue!));
    if (this.clipNorm !== undefined) {
      const norm = Math.sqrt(out.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0));
      if (norm > this.clipNorm) {
        const scale = this.clipNorm / norm;
        out = out.map((g) => tf.mul(g, scale));
      }
    }
    return out;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weightValues);
  }

  /**
   * State tfjs's getWeights leaves out and its setWeights recomputes rather
   * than restores: Adam's running powers of β1 and β2 (recomputed with pow,
   * which rounds differently from the running product). Checkpoints keep it
   * so a resumed run continues bit for bit.
   */
  exactState(): Record<string, number> {
    const inner = this.inner as unknown as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const key of EXACT_STATE_KEYS) {
      const v = inner[key];
      if (v instanceof tf.Variable) out[key] = v.dataSync()[0]!;
    }
    return out;
  }

  restoreExactState(state: Record<string, number>): void {
    const inner = this.inner as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(state)) {
      const v = inner[key];
      if (v instanceof tf.Variable && EXACT_STATE_KEYS.includes(key)) tf.tidy(() => v.assign(tf.scalar(value)));
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.inner.getConfig();
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }
}
