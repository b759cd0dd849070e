/**
 * The release check on scratch clones of this repository (its tags never touched): version, CHANGELOG,
 * the README's `?ref=`, the committed modules and the tag must agree.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";
import { checkRelease } from "../../../scripts/lib/release";

const VERSION = "9.9.9";

/** A clone of HEAD prepared as release 9.9.9 (version, CHANGELOG section, README refs), committed. */
function releaseClone(): string {
  const dir = mkdtempSync(join(tmpdir(), "release-"));
  execFileSync("git", ["clone", "--quiet", "--no-hardlinks", ROOT, dir]);
  const edit = (file: string, change: (text: string) => string) =>
    writeFileSync(join(dir, file), change(readFileSync(join(dir, file), "utf8")));
  edit("package.json", (text) => text.replace(/"version": "[^"]+"/, `"version": "${VERSION}"`));
  edit("CHANGELOG.md", (text) => text.replace("## [Unreleased]", `## [Unreleased]\n\n## [${VERSION}] - 2026-12-01`));
  edit("README.md", (text) => text.replace(/\?ref=[^"\s]+/g, `?ref=v${VERSION}`));
  commit(dir, "release 9.9.9");
  return dir;
}

function commit(dir: string, message: string): void {
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qam", message], {
    cwd: dir,
  });
}

describe("npm run release:check", () => {
  let dir: string;
  beforeEach(() => {
    dir = releaseClone();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("agreeing version, CHANGELOG and README, not yet tagged: passes and names the tag to create", () => {
    expect(checkRelease(dir)).toEqual({ version: VERSION, tag: `v${VERSION}`, tagged: false, problems: [] });
  });

  test("tagged at a commit with the same modules: passes", () => {
    execFileSync("git", ["tag", `v${VERSION}`], { cwd: dir });
    expect(checkRelease(dir)).toMatchObject({ tagged: true, problems: [] });
  });

  test("the tag holds other modules than the tree: refused (a released module never changes)", () => {
    execFileSync("git", ["tag", `v${VERSION}`], { cwd: dir });
    const module = join(dir, "modules", "sfn-job-states", "main.tf.json");
    writeFileSync(module, readFileSync(module, "utf8").replace('"description": "', '"description": "changed: '));
    commit(dir, "change the module after the release");
    expect(checkRelease(dir).problems).toEqual([expect.stringContaining(`tag v${VERSION} holds other modules`)]);
  });

  test("an uncommitted module change (a stale build) is refused", () => {
    const module = join(dir, "modules", "mackerel-serverless", "main.tf.json");
    writeFileSync(module, `${readFileSync(module, "utf8")} `);
    expect(checkRelease(dir).problems).toEqual([
      expect.stringContaining("the committed modules differ from a rebuild"),
    ]);
  });

  test("a CHANGELOG without the version's section, or README sources on another ref, are refused", () => {
    writeFileSync(join(dir, "CHANGELOG.md"), "# Changelog\n\n## [Unreleased]\n");
    const readme = join(dir, "README.md");
    writeFileSync(readme, readFileSync(readme, "utf8").replace(`?ref=v${VERSION}`, "?ref=v0.0.1"));
    commit(dir, "break it");
    expect(checkRelease(dir).problems).toEqual([
      `CHANGELOG.md has no "## [${VERSION}] - YYYY-MM-DD" section`,
      `README.md's module sources use ?ref=v0.0.1, not v${VERSION}`,
    ]);
  });
});
