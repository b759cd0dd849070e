/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // The functions import their siblings as `./x.js` (ESM, as esbuild bundles them); jest loads the .ts.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      { tsconfig: { module: "commonjs", moduleResolution: "node", isolatedModules: true }, diagnostics: false },
    ],
  },
  // Terraform plans and dynalite-backed suites are slow on a 2-core machine.
  testTimeout: 120000,
  maxWorkers: 2,
  // Lists every suite and test, so CI shows what ran (and what announced a skip).
  verbose: true,
};
