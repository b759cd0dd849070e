/**
 * The `modules/sfn-job-states` Terraform module: {@link jobStates} for Terraform users. Give it a job's
 * state and the metric function's ARN; merge its `states` output into a state machine definition.
 */
import { App, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { declareVariables, finishChildModule } from "./child-module";
import { jobStates } from "./step-functions";
import { TERRAFORM_VERSION } from "./module-stack";
import type { VariableDefinition } from "./variables";

export const JOB_STATES_VARIABLES: VariableDefinition[] = [
  {
    name: "name",
    type: "string",
    description: "Name of the job's state; the module adds <name>Failed, <name>Succeeded and <name>PostMetric.",
    validations: [
      {
        condition: 'can(regex("^[^\\\\s]{1,69}$", var.name))',
        errorMessage: "name: must be 1-69 characters without whitespace (state names are limited to 80).",
      },
    ],
  },
  {
    name: "state",
    type: "any",
    description:
      "The job's own state as an object — a Task, Parallel or Map (the state types that can Catch) — without Next, End or Catch.",
    validations: [
      {
        condition: 'can(var.state.Type) ? contains(["Task", "Parallel", "Map"], var.state.Type) : false',
        errorMessage:
          "state: must be an Amazon States Language Task, Parallel or Map state (the types that can Catch).",
      },
    ],
  },
  {
    name: "metric_function_arn",
    type: "string",
    description: "module.<mackerel-serverless>.metric_function_arn.",
  },
  {
    name: "metric_name",
    type: "string",
    description: "Service metric set to 1 when the job failed and 0 when it succeeded, e.g. jobs.failed.import.",
    validations: [
      {
        condition: 'can(regex("^[a-zA-Z0-9._-]+$", var.metric_name))',
        errorMessage: "metric_name: must match [a-zA-Z0-9._-]+ (Mackerel's service metric name rule).",
      },
    ],
  },
  {
    name: "service_name",
    type: "string",
    default: null,
    description: "Mackerel service of the metric; default: the mackerel-serverless module's service_name.",
  },
  {
    name: "next",
    type: "string",
    default: null,
    description: "State after the metric is posted; null ends the branch.",
  },
  {
    name: "error_equals",
    type: "list(string)",
    default: ["States.ALL"],
    description: "Errors that count as the job failing.",
  },
];

export class JobStatesModuleStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const vars = declareVariables(this, JOB_STATES_VARIABLES);
    const value = (name: string) => vars.get(name)!;
    const states = jobStates({
      name: value("name").stringValue,
      state: value("state").value,
      metricFunctionArn: value("metric_function_arn").stringValue,
      metricName: value("metric_name").stringValue,
      serviceName: value("service_name").stringValue,
      next: value("next").stringValue,
      errorEquals: value("error_equals").value,
    });
    new TerraformOutput(this, "states", {
      value: states,
      description: "The job's four states, to merge into the state machine's States.",
    }).overrideLogicalId("states");
  }

  override toTerraform(): Record<string, unknown> {
    return finishChildModule(super.toTerraform() as Record<string, unknown>, {
      definitions: JOB_STATES_VARIABLES,
      requiredVersion: TERRAFORM_VERSION,
    });
  }
}

/** Synthesizes the job-states module and returns its Terraform JSON. */
export function synthesizeJobStatesModule(): Record<string, unknown> {
  return new JobStatesModuleStack(new App({ outdir: "cdktf.out" }), "sfn-job-states").toTerraform();
}
