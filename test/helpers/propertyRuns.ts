/**
 * How many cases a property test tries. Under `npm run test:mutation` every covering test
 * runs once per mutant, so properties try a tenth of their cases there: enough to kill a
 * mutant, which breaks the property on most inputs, without making the run last hours.
 */
export function propertyRuns(runs: number): number {
  return process.env.QRGATE_MUTATION_MODULE ? Math.max(10, Math.ceil(runs / 10)) : runs;
}

/**
 * How many entries a bulk-data test builds whose property holds at any size (a list applied
 * while scans read it, old or new and never a mix). Under `npm run test:mutation` it runs once
 * per mutant it covers, so a tenth there; the full size in `npm test`.
 */
export function bulkEntries(count: number): number {
  return process.env.QRGATE_MUTATION_MODULE ? Math.ceil(count / 10) : count;
}
