import { describe, expect, it } from 'vitest';
import { bundledPackages, productionTree } from '../../scripts/supply-chain.ts';

describe('the shipped bundle', () => {
  it('contains only production dependencies, so that npm audit --omit=dev covers all of it', async () => {
    // Act
    const { packages } = await bundledPackages();
    const tree = productionTree();

    // Assess: the function ships no package at all (its SigV4 signer is its own), and were one
    // to come back, it would have to be a production dependency.
    expect(packages.map((p) => p.name)).toEqual([]);
    expect(packages.filter((p) => !tree.has(p.name)).map((p) => p.name)).toEqual([]);
  }, 60_000);
});
