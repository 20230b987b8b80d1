/**
 * The short load run (`npm run load -- --short`) as a test: correctness under concurrency only.
 * Throughput, latency and memory are printed by `npm run load` and never asserted here: this
 * machine is shared and noisy.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runLoad } from './run.ts';

describe('the local server under a short load', () => {
  it('answers every one of 4,500 concurrent logins with the contract answer, and stays up', async () => {
    // Act
    const report = await runLoad({ short: true });
    console.log(formatReport(report));

    // Assess
    expect(report.crashed).toBe(false);
    for (const phase of report.phases) {
      expect(phase.examples, phase.name).toEqual([]);
      expect(phase.nonContract, phase.name).toBe(0);
      expect(phase.errors + phase.timeouts, phase.name).toBe(0);
      expect(phase.completed, phase.name).toBe(phase.requested);
    }
    const mixed = report.phases.find((phase) => phase.name.startsWith('mixed'));
    expect(mixed?.answers).toEqual({
      '200': 1500,
      '400:invalid_code': 125,
      '400:code_used': 125,
      '403:user_blocked': 125,
      '429:rate_limited': 125,
    });
  }, 120_000);
});
