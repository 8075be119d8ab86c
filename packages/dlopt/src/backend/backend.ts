import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DloptError, UsageError, describeError } from '../errors.js';
import { registerChainedOps } from './chained-ops.js';
import { patchCpuKernels } from './cpu-kernels/register.js';

/** Optional backend packages, imported when installed; each registers itself with tfjs on import. */
const OPTIONAL_BACKENDS = ['@dlopt/tfjs-backend-native'] as const;

export interface BackendChoice {
  /** The tfjs backend in use, e.g. "cpu". */
  name: string;
  /** All registered backends, highest priority first. */
  available: string[];
  /** In words, for the user: e.g. "native (avx512 kernels, 2 threads)". */
  description: string;
}

let initialised: Promise<void> | undefined;

/** What dlopt uses from the native backend package, when it is installed and loaded. */
interface NativeModule {
  NativeAdam: new (learningRate?: number, beta1?: number, beta2?: number, epsilon?: number) => tf.AdamOptimizer;
  nativeBackendInfo(): { available: boolean; isa?: string; threads?: number };
  imagesToTensor(images: Uint8Array, index: Uint32Array, shape: number[], scale: number): tf.Tensor | undefined;
}
let nativeModule: NativeModule | undefined;

/** The loaded native backend package, if any (after initBackend). */
export function nativeBackendModule(): NativeModule | undefined {
  return nativeModule;
}

/**
 * Loads the optional backends and activates one: `requested` if given,
 * otherwise the highest-priority registered backend (a faster backend
 * registers with a higher priority than tfjs's `cpu`).
 */
export async function initBackend(requested?: string): Promise<BackendChoice> {
  initialised ??= loadOptionalBackends();
  await initialised;
  const available = registeredBackends();
  if (requested !== undefined && !available.includes(requested)) {
    throw new UsageError(`backend "${requested}" is not available; registered backends: ${available.join(', ')}`);
  }
  // Set it explicitly: tf.ready() keeps whatever backend an earlier tensor initialised.
  const name = requested ?? available[0] ?? 'cpu';
  if (!(await tf.setBackend(name))) throw new DloptError(`backend "${name}" failed to initialise`);
  quietCpuBackend();
  const active = tf.getBackend();
  const info = active === 'native' ? nativeModule?.nativeBackendInfo() : undefined;
  const detail = info?.isa ? ` (${info.isa} kernels, ${info.threads} thread${info.threads === 1 ? '' : 's'})` : '';
  return { name: active, available, description: `${active}${detail}` };
}

function registeredBackends(): string[] {
  const factories = (tf.engine() as unknown as { registryFactory: Record<string, { priority: number }> }).registryFactory;
  return Object.entries(factories)
    .sort((a, b) => b[1].priority - a[1].priority)
    .map(([name]) => name);
}

async function loadOptionalBackends(): Promise<void> {
  // Before other backends load: those derived from cpu copy its kernel table.
  patchCpuKernels();
  registerChainedOps();
  for (const name of OPTIONAL_BACKENDS) {
    try {
      const loaded = (await import(name)) as NativeModule;
      if (name === '@dlopt/tfjs-backend-native' && loaded.nativeBackendInfo().available) nativeModule = loaded;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Not installed is fine; installed but broken must be reported.
      if (code === 'ERR_MODULE_NOT_FOUND' && describeError(error).includes(name)) continue;
      throw new DloptError(`backend package ${name} is installed but failed to load: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
}

/**
 * tfjs's cpu backend prints, on first use in Node, advice to install
 * tfjs-node — which cannot be installed offline or on current Node versions.
 * Mark the notice as shown so users are not sent down that path.
 */
function quietCpuBackend(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if ('firstUse' in backend) backend.firstUse = false;
}
