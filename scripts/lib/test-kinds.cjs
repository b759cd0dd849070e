// Sorts the jest suites into two speeds for jest.config.js:
// - unit: plain code, in-process (local HTTP servers included): the inner loop, `npm run test:unit`;
// - integration: a suite that starts a subprocess (a built zip under the Lambda runtime, terraform, the demo),
//   or a database (dynalite), found by following its imports through the repository.
// A new suite lands in the right speed by what it imports; nobody keeps a list.
"use strict";
const { existsSync, readdirSync, readFileSync, statSync } = require("node:fs");
const { dirname, join, resolve } = require("node:path");

/** What makes a suite slow: subprocesses, terraform, a database. */
const INTEGRATION_IMPORTS = [/^(node:)?child_process$/, /[/\\]scripts[/\\]local[/\\]dynalite(\.ts)?$/];

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

function resolveLocal(from, spec) {
  const base = resolve(dirname(from), spec.replace(/\.js$/, ""));
  for (const candidate of [base, `${base}.ts`, `${base}.cjs`, `${base}.mjs`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function classifier() {
  const memo = new Map();
  const isIntegration = (file, seen = new Set()) => {
    if (memo.has(file)) return memo.get(file);
    if (seen.has(file)) return false;
    seen.add(file);
    let result = false;
    for (const [, spec] of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (INTEGRATION_IMPORTS.some((re) => re.test(spec))) {
        result = true;
        break;
      }
      if (!spec.startsWith(".")) continue;
      const target = resolveLocal(file, spec);
      if (
        target &&
        (INTEGRATION_IMPORTS.some((re) => re.test(target.replace(/\.ts$/, ""))) || isIntegration(target, seen))
      ) {
        result = true;
        break;
      }
    }
    memo.set(file, result);
    return result;
  };
  return isIntegration;
}

function suites(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return suites(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The suites under `testsDir`, by speed. */
function testKinds(testsDir) {
  const isIntegration = classifier();
  const all = suites(testsDir).sort();
  return { unit: all.filter((f) => !isIntegration(f)), integration: all.filter((f) => isIntegration(f)) };
}

module.exports = { testKinds };
