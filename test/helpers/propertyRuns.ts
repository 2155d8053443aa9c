/**
 * How many cases a property test tries. Under `npm run test:mutation` every covering test
 * runs once per mutant, so properties try a tenth of their cases there: enough to kill a
 * mutant, which breaks the property on most inputs, without making the run last hours.
 */
export function propertyRuns(runs: number): number {
  return process.env.QRGATE_MUTATION_MODULE ? Math.max(10, Math.ceil(runs / 10)) : runs;
}
