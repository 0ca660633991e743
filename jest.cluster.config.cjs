// `npm run test:cluster`: the scale-out suite (test/cluster) against a Citus cluster that its global
// set-up starts (coordinator + 2 workers on free ports) and its teardown stops. One file at a time:
// the files share the cluster (each in its own distributed database).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extending the other
const base = require('./jest.config.cjs');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/cluster/global-setup.mjs',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.mjs',
  testTimeout: 180000,
  maxWorkers: 1,
};
