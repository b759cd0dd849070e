/**
 * `npm run release:check`: what must hold before tagging a release. Run after `npm run build`:
 * the committed modules match the sources (a rebuild changed nothing), and CHANGELOG.md has an entry
 * for the version in package.json.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib/bundle";

const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
const problems: string[] = [];

if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) problems.push(`package.json version ${version} is not semver`);
const changelog = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8");
if (!changelog.includes(`## [${version}]`)) problems.push(`CHANGELOG.md has no "## [${version}]" section`);

const stale = execFileSync("git", ["status", "--porcelain", "--", "modules", "README.md"], {
  cwd: ROOT,
  encoding: "utf8",
});
if (stale.trim() !== "") problems.push(`the committed modules differ from a rebuild:\n${stale}`);

if (problems.length > 0) {
  console.error(`release check failed for v${version}:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`release check passed: v${version} (tag it v${version})`);
