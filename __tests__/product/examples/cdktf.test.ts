/**
 * examples/cdktf: the construct in a user's CDKTF stack synthesizes (assets included) and the result
 * plans offline with real terraform.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { MonitoringStack } from "../../../examples/cdktf/main";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform } from "../../support/terraform";

/** Synthesized Terraform JSON: resource type → name → arguments. */
interface SynthesizedStack {
  resource: Record<string, Record<string, Record<string, unknown>>>;
}

function synthesize(): { outdir: string; stackDir: string; tf: SynthesizedStack } {
  const outdir = mkdtempSync(join(tmpdir(), "cdktf-example-"));
  const app = new App({ outdir });
  new MonitoringStack(app, "monitoring");
  app.synth();
  const stackDir = join(outdir, "stacks", "monitoring");
  return { outdir, stackDir, tf: JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) };
}

describe("examples/cdktf synthesizes", () => {
  test("the metric function ships its zip as an asset, and the state machine invokes it", () => {
    const { outdir, tf } = synthesize();
    try {
      const functions = Object.values(tf.resource.aws_lambda_function!);
      const metric = functions.find((f) => f.function_name === "cdktf-demo-metric");
      expect(metric).toBeDefined();
      expect(metric!.filename).toMatch(/^assets\/.+\/metric\.zip$/);
      // Every function's zip travels as an asset of the user's stack.
      for (const fn of functions) expect(fn.filename).toMatch(/^assets\/.+\.zip$/);
      const [machine] = Object.values(tf.resource.aws_sfn_state_machine!);
      expect(machine!.definition).toContain("ExtractPostMetric");
      expect(machine!.definition).toContain("jobs.failed.load");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describeWithTerraform("terraform: examples/cdktf", () => {
  test("init, validate and plan the synthesized stack", () => {
    const { outdir, stackDir } = synthesize();
    const workspace = TerraformWorkspace.create({ copyOf: stackDir });
    try {
      expect(workspace.init().status).toBe(0);
      const validate = workspace.validate();
      expect(validate.stderr).toBe("");
      const { result, plan } = workspace.planJson({
        extract_function_arn: "arn:aws:lambda:ap-northeast-1:123456789012:function:nightly-extract",
        load_function_arn: "arn:aws:lambda:ap-northeast-1:123456789012:function:nightly-load",
      });
      expect(result.stderr).toBe("");
      const addresses = (plan!.resource_changes as { address: string }[]).map((c) => c.address);
      expect(addresses).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^aws_lambda_function\./),
          expect.stringMatching(/^aws_sfn_state_machine\./),
          expect.stringMatching(/^aws_secretsmanager_secret\./),
        ]),
      );
    } finally {
      workspace.remove();
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
