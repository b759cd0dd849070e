/** What every example under examples/ is: a Terraform root project a user can copy. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT_PROJECT_FILES = ["README.md", "main.tf", "variables.tf", "outputs.tf", "versions.tf"];

/** The usual files, each non-empty, and no data source that needs an AWS account to plan. */
export function expectRootProject(dir: string): void {
  for (const file of ROOT_PROJECT_FILES) {
    expect([file, readFileSync(join(dir, file), "utf8").trim().length > 0]).toEqual([file, true]);
  }
  expect(readFileSync(join(dir, "main.tf"), "utf8")).not.toMatch(/aws_caller_identity/);
}
