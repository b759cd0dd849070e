/**
 * Shared set-up of the suites that run the BUILT check zip: its environment as the module sets it
 * (pointed at local stand-ins), the rule inputs of a plan of the module with given checks, what the local Mackerel server recorded per
 * check, and a local web server to check.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import type { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { expectCleanInit } from "../../support/terraform";

export const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
export const SERVICE = "shop";

/** The check function's environment: key from the local Secrets Manager, posting to the local Mackerel. */
export function checkZipEnv(options: {
  mackerelUrl: string;
  secretsManagerUrl: string;
  /** Host name; the custom identifier is the module's default for it. */
  hostName: string;
  /** More `AWS_ENDPOINT_URL_*` (or other) variables. */
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
    MACKEREL_API_BASE_URL: options.mackerelUrl,
    MACKEREL_SERVICE_NAME: SERVICE,
    MACKEREL_HOST_NAME: options.hostName,
    MACKEREL_HOST_CUSTOM_IDENTIFIER: `mackerel-serverless/us-east-1/123456789012/${options.hostName}`,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.secretsManagerUrl,
    ...options.extra,
  };
}

/** The input of each planned EventBridge rule target, by check name (`terraform show -json` of a plan). */
export function plannedRuleInputs<T = unknown>(plan: { resource_changes?: unknown }): Map<string, T> {
  const inputs = new Map<string, T>();
  for (const change of plan.resource_changes as { address: string; change: { after: { input?: string } } }[]) {
    const m = /aws_cloudwatch_event_target\.\w+\["([^"]+)"\]$/.exec(change.address);
    if (m) inputs.set(m[1]!, JSON.parse(change.change.after.input!) as T);
  }
  return inputs;
}

/**
 * Plans the module (name `zip`, the suites' secret and service) with `checks` (its check list arguments) in a
 * scratch root module at `at`, and returns the planned rule inputs by check name.
 */
export function planRuleInputs<T = unknown>(checks: string, at: string): Map<string, T> {
  const workspace = TerraformWorkspace.rootModule(
    `
module "mackerel" {
  source             = "../../modules/mackerel-serverless"
  name               = "zip"
  api_key_secret_arn = "${SECRET_ARN}"
  service_name       = "${SERVICE}"
${checks}
}
`,
    at,
  );
  try {
    expectCleanInit(workspace);
    const { result, plan } = workspace.planJson();
    expect(result.stderr).toBe("");
    return plannedRuleInputs<T>(plan!);
  } finally {
    workspace.remove();
  }
}

/** The latest report of a check, and its `checks.<name>.*` service metrics. */
export function checkResults(mackerel: () => LocalMackerelServer): {
  lastReport: (name: string) => ReturnType<LocalMackerelServer["checkReports"]>[number] | undefined;
  metricsOf: (name: string) => Record<string, number>;
} {
  return {
    lastReport: (name) =>
      mackerel()
        .checkReports()
        .filter((r) => r.name === name)
        .at(-1),
    metricsOf: (name) =>
      Object.fromEntries(
        mackerel()
          .serviceMetrics(SERVICE)
          .filter((m) => m.name.startsWith(`checks.${name}.`))
          .map((m) => [m.name.slice(`checks.${name}.`.length), m.value]),
      ),
  };
}

/** A web server on 127.0.0.1 and its base URL (no trailing slash). */
export async function startWebServer(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
