/**
 * CI trusts `npm test`'s exit status, so a failing test must make jest exit non-zero with this repository's
 * global set-up and teardown (which start and stop the STS stand-in). A teardown that awaited an unref'd
 * child once let Node end the process mid-await with status 0, and every red run looked green.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";

/** Runs jest on one suite in a scratch folder, with the repository's global set-up and teardown. */
function runSuite(body: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "exit-status-"));
  try {
    writeFileSync(join(dir, "probe.test.js"), body);
    const config = {
      rootDir: dir,
      testMatch: ["<rootDir>/probe.test.js"],
      globalSetup: join(ROOT, "__tests__", "support", "global-setup.ts"),
      globalTeardown: join(ROOT, "__tests__", "support", "global-teardown.ts"),
      transform: {
        "^.+\\.ts$": [
          join(ROOT, "node_modules", "ts-jest"),
          { tsconfig: { module: "commonjs", moduleResolution: "node", isolatedModules: true }, diagnostics: false },
        ],
      },
    };
    writeFileSync(join(dir, "jest.config.json"), JSON.stringify(config));
    const result = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules", "jest", "bin", "jest.js"), "--config", join(dir, "jest.config.json")],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, CI: "true" } },
    );
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a failing test makes jest exit 1 after the global teardown", () => {
  const { status, output } = runSuite('test("fails", () => { expect(1).toBe(2); });\n');
  expect(output).toContain("Tests:       1 failed, 1 total");
  expect(status).toBe(1);
});

test("a passing run exits 0", () => {
  const { status, output } = runSuite('test("passes", () => { expect(1).toBe(1); });\n');
  expect(output).toContain("Tests:       1 passed, 1 total");
  expect(status).toBe(0);
});
