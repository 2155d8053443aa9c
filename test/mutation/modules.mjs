/**
 * The modules `npm run test:mutation` mutates (issue 13): where a wrong line lets the wrong
 * person through or loses an event. Each names the source files Stryker mutates and the unit
 * tests that guard them; a module runs alone (test/mutation/run.mjs), so one run never pays for
 * another module's tests and its score is its own. No test here may spawn a process or hold a
 * port longer than its test: every surviving mutant costs one run of each covering test.
 */
export const mutationModules = {
  policy: {
    mutate: ['gateway/policy.ts'],
    tests: ['test/gateway/policy.test.ts', 'test/gateway/policyEdges.test.ts'],
  },
  lane: {
    mutate: ['gateway/lane.ts'],
    tests: ['test/gateway/lane.test.ts'],
  },
  outbox: {
    mutate: ['gateway/outbox.ts'],
    tests: ['test/gateway/outbox.test.ts', 'test/gateway/outboxFull.test.ts', 'test/gateway/uplink/outbox.test.ts', 'test/gateway/storageHealth.test.ts'],
  },
  credentials: {
    mutate: ['protocol/credentialRef.ts', 'protocol/credentials/*.ts'],
    tests: ['test/protocol/credentialRef.test.ts', 'test/protocol/credentials/*.test.ts'],
  },
  lists: {
    mutate: ['protocol/lists/verify.ts', 'gateway/lists/vouchedList.ts'],
    tests: [
      'test/protocol/lists/signedList.test.ts',
      'test/protocol/lists/manifest.test.ts',
      'test/protocol/lists/listFuzz.test.ts',
      'test/protocol/lists/verifyEdges.test.ts',
      'test/gateway/lists/vouchedList.test.ts',
    ],
  },
  listApply: {
    mutate: ['gateway/lists/applyFile.ts', 'gateway/lists/listApplier.ts'],
    tests: [
      'test/gateway/lists/listWriter.test.ts',
      'test/gateway/lists/listApplier.test.ts',
      'test/gateway/lists/applyFileChecks.test.ts',
      'test/gateway/lists/applyPhases.test.ts',
    ],
  },
  access: {
    mutate: ['broker/access/roles.ts', 'broker/auth/acl.ts', 'broker/auth/aclGrants.ts', 'broker/auth/authorizePublish.ts', 'broker/auth/authorizeSubscribe.ts'],
    tests: [
      'test/broker/access/*.test.ts',
      'test/broker/auth/aclGrants.test.ts',
      'test/broker/auth/aclMatrix.test.ts',
      'test/broker/auth/aclOwnTopics.test.ts',
      'test/broker/auth/authorizePublish.test.ts',
      'test/broker/auth/authorizeSubscribe.test.ts',
    ],
  },
  ingestion: {
    mutate: [
      'broker/ingestion/ingestion.ts',
      'broker/ingestion/groupCommitter.ts',
      'broker/ingestion/validate.ts',
      'broker/ingestion/deferredAcks.ts',
      'broker/mqtt/ackOrder.ts',
      'broker/store/sqliteEventWriter.ts',
    ],
    tests: [
      'test/broker/ingestion/groupCommitter.test.ts',
      'test/broker/ingestion/validate.test.ts',
      'test/broker/ingestion/validateProperties.test.ts',
      'test/broker/ingestion/validateReasons.test.ts',
      'test/broker/ingestion/deferredAcks.test.ts',
      'test/broker/ingestion/ingestionEdges.test.ts',
      'test/broker/mqtt/ackOrder.test.ts',
      'test/broker/auth/authorizePublish.test.ts',
      'test/broker/store/sqliteStore.test.ts',
    ],
  },
};

/** The module named by QRGATE_MUTATION_MODULE, or an error naming the known ones. */
export function selectedModule(env = process.env) {
  const name = env.QRGATE_MUTATION_MODULE;
  const module = name ? mutationModules[name] : undefined;
  if (!module) throw new Error(`QRGATE_MUTATION_MODULE must be one of ${Object.keys(mutationModules).join(', ')}, got ${name ?? '(unset)'}`);
  return { name, ...module };
}
