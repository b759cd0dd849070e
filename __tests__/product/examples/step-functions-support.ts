/** The examples/step-functions fixtures: its files, the variables its templates take, and the job handlers. */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { findDefinitionTemplates, ROOT, templatePlaceholders } from "../../../scripts/local/step-functions";

export const EXAMPLE = join(ROOT, "examples", "step-functions");
export const JOBS = join(EXAMPLE, "state-machines", "jobs.asl.json");
export const JOBS_LAMBDA_INVOKE = join(EXAMPLE, "state-machines", "jobs-lambda-invoke.asl.json");

export const METRIC = {
  arn: "arn:aws:lambda:us-east-1:123456789012:function:mackerel-sfn-example-metric",
  name: "mackerel-sfn-example-metric",
};
export const VARS = {
  metric_function_arn: METRIC.arn,
  metric_function_name: METRIC.name,
  service_name: "orders",
  job_a_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:job-a",
  job_b_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:job-b",
};
/**
 * Values for a template's placeholders: the example's, plus fakes for other examples' `*_function_arn`
 * and `*_function_name` (their Task states are bound to local handlers by state name anyway).
 */
export function varsFor(path: string): Record<string, string> {
  const vars: Record<string, string> = { ...VARS };
  for (const name of templatePlaceholders(readFileSync(path, "utf8"))) {
    if (name in vars) continue;
    const base = name.replace(/_function_(arn|name)$/, "").replace(/_/g, "-");
    if (name.endsWith("_function_arn")) vars[name] = `arn:aws:lambda:us-east-1:123456789012:function:${base}`;
    else if (name.endsWith("_function_name")) vars[name] = base;
  }
  return vars;
}

export const TF_VARS = {
  service_name: VARS.service_name,
  job_a_function_arn: VARS.job_a_function_arn,
  job_b_function_arn: VARS.job_b_function_arn,
};

export const TEMPLATES = findDefinitionTemplates();
export const templateCases = TEMPLATES.map((path) => [relative(ROOT, path), path] as const);

class JobFailedError extends Error {
  override readonly name = "JobFailedError";
}
export const fails = () => {
  throw new JobFailedError("the job broke");
};
export const succeeds = () => ({ done: true });
