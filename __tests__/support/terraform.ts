/**
 * `describeWithTerraform`: a describe block that runs only where terraform and the provider mirror
 * are available, and says so loudly where they are not (the skipped tests are listed by jest, and a
 * banner names the reason).
 */
import { type TerraformWorkspace, terraformAvailability } from "../../scripts/lib/terraform";

export function describeWithTerraform(name: string, body: () => void): void {
  const availability = terraformAvailability();
  if (availability.ok) {
    describe(`${name} [terraform ${availability.version}]`, body);
    return;
  }
  console.warn(`\n*** TERRAFORM TESTS SKIPPED: ${name}: ${availability.reason}. These tests did NOT run. ***\n`);
  describe.skip(`${name} [SKIPPED: ${availability.reason}]`, body);
}

/** Runs `terraform init` in `workspace` and expects it to succeed without a word on stderr. */
export function expectCleanInit(workspace: TerraformWorkspace): void {
  const init = workspace.init();
  expect(init.stderr).toBe("");
  expect(init.status).toBe(0);
}
