import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MedianPruner } from '../tune/pruners/median-pruner.js';
import type { Pruner, PruningContext } from '../tune/pruners/pruner.js';
import { SuccessiveHalvingPruner } from '../tune/pruners/successive-halving-pruner.js';
import { conformanceContexts, describePrunerConformance, prunerChecks } from './pruner-conformance.js';

const pruner = (prune: (ctx: PruningContext) => boolean): (() => Pruner) => () => ({ name: 'broken', prune });
const latest = (ctx: PruningContext): number | undefined => {
  const steps = Object.keys(ctx.trial.intermediate).map(Number);
  return steps.length === 0 ? undefined : ctx.trial.intermediate[Math.max(...steps)];
};

// The suite on the simplest correct pruner.
describePrunerConformance('never', pruner(() => false));

describe('pruner conformance suite', () => {
  it('catches a pruner that prunes trials with no reports', () => {
    assert.throws(() => prunerChecks.noReports(pruner(() => true)), /no reports/);
  });

  it('catches a pruner that throws on NaN in other trials', () => {
    const fragile = pruner((ctx) => {
      if (ctx.trials.some((t) => Object.values(t.intermediate).some(Number.isNaN))) throw new Error('NaN!');
      return false;
    });
    assert.throws(() => prunerChecks.robust(fragile), /threw on/);
  });

  it('catches a pruner with state, or one that depends on the order of trials', () => {
    let calls = 0;
    assert.throws(() => prunerChecks.deterministic(pruner(() => ++calls <= 5)), /asked twice/);
    assert.throws(() => prunerChecks.deterministic(pruner((ctx) => ctx.trials[0]?.state === 'COMPLETE')), /call order or trial order/);
  });

  it('catches a pruner that changes its context', () => {
    const sorting = pruner((ctx) => {
      (ctx.trials as PruningContext['trials'][number][]).sort((a, b) => b.number - a.number);
      return false;
    });
    assert.throws(() => prunerChecks.pure(sorting));
  });

  it('catches a pruner that ignores the direction', () => {
    assert.throws(() => prunerChecks.symmetric(pruner((ctx) => (latest(ctx) ?? 0) > 1)), /other direction/);
  });

  it('its histories give real pruners real decisions (some prunes, some keeps)', () => {
    for (const p of [new MedianPruner(), new SuccessiveHalvingPruner()]) {
      const answers = conformanceContexts().map(({ ctx }) => p.prune(ctx));
      assert.ok(answers.includes(true) && answers.includes(false), `${p.name}: ${answers.filter(Boolean).length}/${answers.length} pruned`);
    }
  });
});
