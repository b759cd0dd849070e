/**
 * What every synthesized child module shares: variables (with validation blocks) from a definition
 * table, and the clean-up of cdktf's output into a plain, callable child module.
 */
import { TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import type { VariableDefinition } from "./variables";

/** Declares each definition as a Terraform variable with a stable name; returns them by name. */
export function declareVariables(scope: Construct, definitions: VariableDefinition[]): Map<string, TerraformVariable> {
  const vars = new Map<string, TerraformVariable>();
  for (const definition of definitions) {
    const variable = new TerraformVariable(scope, definition.name, {
      type: definition.type,
      description: definition.description,
      // cdktf cannot render a null default; finishChildModule() writes those.
      ...("default" in definition && definition.default !== null ? { default: definition.default } : {}),
      ...(definition.nullable === false ? { nullable: false } : {}),
      validation: definition.validations?.map((v) => ({
        condition: `\${${v.condition}}`,
        errorMessage: v.errorMessage,
      })),
    });
    variable.overrideLogicalId(definition.name);
    vars.set(definition.name, variable);
  }
  return vars;
}

/**
 * Turns a stack's Terraform JSON into a child module: no provider blocks, no backend (callers could
 * not use for_each or depends_on on it), providers pinned by range, null defaults, and no cdktf
 * metadata, so it reads as plain Terraform.
 */
export function finishChildModule(
  tf: Record<string, unknown>,
  options: {
    definitions: VariableDefinition[];
    requiredVersion: string;
    requiredProviders?: Record<string, { source: string; version: string }>;
  },
): Record<string, unknown> {
  const terraform = (tf.terraform ?? {}) as Record<string, unknown>;
  delete tf.provider;
  delete terraform.backend;
  if (options.requiredProviders) terraform.required_providers = options.requiredProviders;
  else delete terraform.required_providers;
  terraform.required_version = options.requiredVersion;
  tf.terraform = terraform;
  const variables = (tf.variable ?? {}) as Record<string, Record<string, unknown>>;
  for (const definition of options.definitions) {
    if ("default" in definition && definition.default === null) variables[definition.name]!.default = null;
  }
  return stripMetadata(tf) as Record<string, unknown>;
}

/** Removes cdktf's `//` metadata (construct paths, backend notes). */
function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key !== "//") out[key] = stripMetadata(inner);
    }
    return out;
  }
  return value;
}
