const { join } = require("node:path");
const { testKinds } = require("./scripts/lib/test-kinds.cjs");

// Two speeds (scripts/lib/test-kinds.cjs): `npm run test:unit` for the inner loop, `npm run test:integration`
// for the suites that start processes, terraform or dynalite; `npm test` runs both.
const kinds = testKinds(join(__dirname, "__tests__"));

const shared = {
  testEnvironment: "node",
  rootDir: __dirname,
  // The functions import their siblings as `./x.js` (ESM, as esbuild bundles them); jest loads the .ts.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      { tsconfig: { module: "commonjs", moduleResolution: "node", isolatedModules: true }, diagnostics: false },
    ],
  },
};

const projects = [
  { ...shared, displayName: "unit", testMatch: kinds.unit },
  { ...shared, displayName: "integration", testMatch: kinds.integration },
];
// `npm run test:unit` / `test:integration` run one speed. They choose it here, by the npm script's name,
// rather than with --selectProjects, whose list would swallow a path given after it
// (`npm run test:unit -- __tests__/x` must filter).
const speed = { "test:unit": "unit", "test:integration": "integration" }[process.env.npm_lifecycle_event ?? ""];

/** @type {import('jest').Config} */
module.exports = {
  projects: speed ? projects.filter((p) => p.displayName === speed) : projects,
  // Once before the suites: the Node 24 runtime the zips are also run on (scripts/lib/lambda-node.ts), and
  // the one STS stand-in of the run's terraform plans (stopped by the teardown).
  globalSetup: "<rootDir>/__tests__/support/global-setup.ts",
  globalTeardown: "<rootDir>/__tests__/support/global-teardown.ts",
  // Terraform plans and dynalite-backed suites are slow on a 2-core machine.
  testTimeout: 120000,
  maxWorkers: 2,
  // Lists every suite and test, so CI shows what ran (and what announced a skip).
  verbose: true,
};
