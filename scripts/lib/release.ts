/**
 * What must agree for a release: the version in package.json, its CHANGELOG.md section, the `?ref=v<version>`
 * in the README's module sources, the committed modules (a rebuild changed nothing), and the git tag
 * `v<version>` when it exists (it must hold the same modules: a released module never changes under its tag).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The modules Terraform users pin by tag. */
export const RELEASED_PATHS = ["modules/mackerel-serverless", "modules/sfn-job-states"];

export interface ReleaseCheck {
  version: string;
  tag: string;
  /** Whether `tag` exists (and then holds the committed modules, unless a problem says otherwise). */
  tagged: boolean;
  problems: string[];
}

const git = (root: string, args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" });

/** Checks the repository at `root` (after a rebuild); `problems` is empty when a release can be tagged. */
export function checkRelease(root: string): ReleaseCheck {
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const tag = `v${version}`;
  const problems: string[] = [];

  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) problems.push(`package.json version ${version} is not semver`);
  const changelog = readFileSync(join(root, "CHANGELOG.md"), "utf8");
  if (!new RegExp(`^## \\[${version.replace(/\./g, "\\.")}\\] - \\d{4}-\\d{2}-\\d{2}$`, "m").test(changelog)) {
    problems.push(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section`);
  }
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const refs = [...readme.matchAll(/\/\/modules\/[a-z-]+\?ref=([^"\s]+)/g)].map((m) => m[1]!);
  if (refs.length === 0) problems.push("README.md shows no module source with ?ref=");
  const wrong = [...new Set(refs.filter((ref) => ref !== tag))];
  if (wrong.length > 0) problems.push(`README.md's module sources use ?ref=${wrong.join(", ")}, not ${tag}`);

  const stale = execFileSync("git", ["status", "--porcelain", "--", ...RELEASED_PATHS, "README.md"], {
    cwd: root,
    encoding: "utf8",
  });
  if (stale.trim() !== "") problems.push(`the committed modules differ from a rebuild:\n${stale}`);

  const tagged = git(root, ["rev-parse", "-q", "--verify", `refs/tags/${tag}`]).status === 0;
  if (tagged && git(root, ["diff", "--quiet", tag, "--", ...RELEASED_PATHS]).status !== 0) {
    problems.push(
      `tag ${tag} holds other modules than this tree: a released module never changes under its tag; bump the version`,
    );
  }
  return { version, tag, tagged, problems };
}
