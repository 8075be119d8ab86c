import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conformanceContexts, describePrunerConformance } from '../../test-support/pruner-conformance.js';
import { NopPruner } from './nop-pruner.js';

describePrunerConformance('NopPruner', () => new NopPruner());

describe('NopPruner', () => {
  it('never prunes, not even a NaN', () => {
    const pruner = new NopPruner();
    assert.equal(pruner.name, 'nop');
    assert.ok(conformanceContexts().every(({ ctx }) => !pruner.prune(ctx)));
  });
});
