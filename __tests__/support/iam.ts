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
  type: string;
  values: Record<string, unknown>;
}
interface PlannedModule {
  resources?: PlannedResource[];
  child_modules?: PlannedModule[];
}

function* resources(module: PlannedModule | undefined): Generator<PlannedResource> {
  if (!module) return;
  yield* module.resources ?? [];
  for (const child of module.child_modules ?? []) yield* resources(child);
}

/** Every `aws_iam_role_policy` of a plan, by role name; fails when a policy is not known at plan time. */
export function plannedRolePolicies(plan: Record<string, unknown>): PlannedRoles {
  const root = (plan.planned_values as { root_module?: PlannedModule } | undefined)?.root_module;
  const roles: PlannedRoles = new Map();
  for (const resource of resources(root)) {
    if (resource.type !== "aws_iam_role_policy") continue;
    const { role, name, policy } = resource.values as { role?: string; name?: string; policy?: string };
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
 * Evaluates each request as the role would make it (same account), against the role's identity policies
 * only (no SCPs, no resource policies: the least a real account adds). Returns what is not allowed.
 */
export async function deniedRequests(
  policies: readonly { name: string; policy: PolicyDocument }[],
  roleArn: string,
  account: string,
  requests: readonly IamRequest[],
): Promise<IamDenial[]> {
  const denials: IamDenial[] = [];
  for (const request of requests) {
    const response = await runSimulation(
      {
        identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
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
