/**
 * Checks AWS calls against IAM policies offline with `@cloud-copilot/iam-simulate` (an IAM policy evaluation
 * engine: identity policies, conditions, resource-type validation of actions and ARNs), and reads the roles'
 * policies out of a `terraform show -json` plan.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { IamRequest } from "../../scripts/local/iam-requests";

/** An IAM policy document. */
export type PolicyDocument = { Version?: string; Statement: Record<string, unknown>[] | Record<string, unknown> };

/** A role's inline policies by name, as planned. */
export type PlannedRoles = Map<string, { name: string; policy: PolicyDocument }[]>;

interface PlannedResource {
  address: string;
  type: string;
  values: Record<string, unknown>;
}
interface PlannedModule {
  address?: string;
  resources?: PlannedResource[];
  child_modules?: PlannedModule[];
}
interface ConfiguredResource {
  address: string;
  expressions?: Record<string, { references?: string[] }>;
}
interface ConfiguredModule {
  resources?: ConfiguredResource[];
  module_calls?: Record<string, { module: ConfiguredModule }>;
}

/** Configured resources by full address (`module.x.aws_iam_role_policy.y`), for references unknown at plan. */
function configured(module: ConfiguredModule | undefined, prefix = ""): Map<string, ConfiguredResource> {
  const found = new Map<string, ConfiguredResource>();
  if (!module) return found;
  for (const resource of module.resources ?? []) found.set(`${prefix}${resource.address}`, resource);
  for (const [name, call] of Object.entries(module.module_calls ?? {})) {
    for (const [address, resource] of configured(call.module, `${prefix}module.${name}.`)) found.set(address, resource);
  }
  return found;
}

function* resources(module: PlannedModule | undefined): Generator<PlannedResource> {
  if (!module) return;
  yield* module.resources ?? [];
  for (const child of module.child_modules ?? []) yield* resources(child);
}

/**
 * Every `aws_iam_role_policy` of a plan, by role name; fails when a policy is not known at plan time. A policy's
 * `role` is the role's id, unknown until apply: the configuration's reference leads to the role, whose name is known.
 */
export function plannedRolePolicies(plan: Record<string, unknown>): PlannedRoles {
  const root = (plan.planned_values as { root_module?: PlannedModule } | undefined)?.root_module;
  const config = configured((plan.configuration as { root_module?: ConfiguredModule } | undefined)?.root_module);
  const planned = new Map([...resources(root)].map((r) => [r.address.replace(/\[[^\]]*\]/g, ""), r]));
  const roleName = (policy: PlannedResource): string | undefined => {
    const address = policy.address.replace(/\[[^\]]*\]/g, "");
    const modulePrefix = address.slice(0, address.lastIndexOf("aws_iam_role_policy."));
    const reference = config.get(address)?.expressions?.role?.references?.find((r) => r.startsWith("aws_iam_role."));
    if (!reference) return undefined;
    const roleAddress = `${modulePrefix}${reference.split(".").slice(0, 2).join(".")}`;
    const name = planned.get(roleAddress)?.values.name;
    return typeof name === "string" ? name : undefined;
  };
  const roles: PlannedRoles = new Map();
  for (const resource of resources(root)) {
    if (resource.type !== "aws_iam_role_policy") continue;
    const { name, policy } = resource.values as { name?: string; policy?: string };
    const role = (resource.values.role as string | undefined) ?? roleName(resource);
    if (typeof role !== "string" || typeof policy !== "string") {
      throw new Error(`a role policy is not known at plan time: ${JSON.stringify(resource.values)}`);
    }
    const list = roles.get(role) ?? [];
    list.push({ name: name ?? `policy-${list.length}`, policy: JSON.parse(policy) as PolicyDocument });
    roles.set(role, list);
  }
  return roles;
}

/** A request the policies do not allow, with the simulator's verdict. */
export interface IamDenial {
  readonly request: IamRequest;
  readonly result: string;
  readonly errors?: unknown;
}

/**
 * Evaluates each request as the role would make it (same account), against the role's identity policies (no
 * SCPs: the least a real account adds) and, where given, the resource's own policy. Returns what is not allowed.
 */
export async function deniedRequests(
  policies: readonly { name: string; policy: PolicyDocument }[],
  roleArn: string,
  account: string,
  requests: readonly IamRequest[],
  /** The resource's own policy where AWS requires one (a KMS key's key policy). */
  resourcePolicy?: (request: IamRequest) => PolicyDocument | undefined,
): Promise<IamDenial[]> {
  const denials: IamDenial[] = [];
  for (const request of requests) {
    const response = await runSimulation(
      {
        identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy?.(request) ? { resourcePolicy: resourcePolicy(request) } : {}),
        request: {
          action: request.action,
          principal: roleArn,
          resource: { accountId: account, resource: request.resource },
          contextVariables: request.context,
        },
      } as never,
      {},
    );
    const result = (response as { overallResult?: string; errors?: unknown }).overallResult;
    if (result !== "Allowed") {
      denials.push({ request, result: result ?? "Error", errors: (response as { errors?: unknown }).errors });
    }
  }
  return denials;
}
