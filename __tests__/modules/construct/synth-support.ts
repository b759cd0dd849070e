/** Helpers of the synth suites: the module stack and a user stack synthesized, and readers of the role policies in them. */
import { Testing } from "cdktf";
import { type MackerelServerlessProps } from "../../../modules/construct";
import { MackerelServerlessModuleStack } from "../../../modules/construct/module-stack";
import { type Json, synthUserStack } from "../../support/construct";

export const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
export const KMS = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

export function synthModule(): Json {
  const stack = new MackerelServerlessModuleStack(Testing.app(), "mackerel-serverless");
  return JSON.parse(Testing.synth(stack)) as Json;
}

export function synthConstruct(props: Partial<MackerelServerlessProps> = {}): Json {
  return synthUserStack({ apiKeySecretArn: SECRET, serviceName: "orders", ...props });
}

/** The metric function's resources, by their stable logical ids (other features add other functions). */
export function metricResource(tf: Json, type: string): Json {
  const id = type === "aws_lambda_function" ? "metric" : "metric_function";
  const resource = tf.resource?.[type]?.[id] as Json | undefined;
  if (!resource) throw new Error(`no ${type}.${id} in ${Object.keys(tf.resource?.[type] ?? {}).join(", ")}`);
  return resource;
}

/** Environment variables the functions' environment contract (functions/shared/config.ts) may carry. */
export const ENVIRONMENT_CONTRACT = [
  "MACKEREL_API_KEY_SECRET_ARN",
  "MACKEREL_API_BASE_URL",
  "MACKEREL_SERVICE_NAME",
  "MACKEREL_HOST_NAME",
  "MACKEREL_HOST_CUSTOM_IDENTIFIER",
  "MACKEREL_HOST_ID",
  "MACKEREL_HOST_ROLES",
  "MACKEREL_SERVERLESS_OWN_LOG_GROUPS",
  "STATE_TABLE_NAME",
  "SPOOL_QUEUE_URL",
  "DEAD_LETTER_QUEUE_URL",
  "NODE_OPTIONS",
];

/**
 * Statements the metric function's role may hold beyond the required ones: the spool (a later feature)
 * lets it send what Mackerel could not take to its own queue.
 */
export const OPTIONAL_METRIC_STATEMENTS: Record<string, { actions: string[]; resource: RegExp }> = {
  // ARNs of the module's own resources are composed from the provider's location and their names.
  SpoolWritesMackerelCouldNotTake: {
    actions: ["sqs:SendMessage"],
    resource:
      /^format\("arn:%s:%s:%s:%s:%s%s", local\.aws\.partition, "sqs", local\.aws\.region, local\.aws\.account_id, var\.name, "-spool\.fifo"\)$/,
  },
  // The host id shared through the state table (a LeadingKeys condition limits it to the host item).
  MackerelHostId: {
    actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    resource: /"dynamodb", local\.aws\.region, local\.aws\.account_id, "table\/", var\.name, "-state"/,
  },
  // Distinct occurredAt seconds per (host, check), limited to the `check#…` items.
  CheckReportSeconds: {
    actions: ["dynamodb:UpdateItem"],
    resource: /"dynamodb", local\.aws\.region, local\.aws\.account_id, "table\/", var\.name, "-state"/,
  },
};

export interface Statement {
  sid: string;
  effect: string;
  actions: string[];
  /** The Resource expression, as written in HCL. */
  resource: string;
  condition?: string;
  /** Inside `<no key> ? [] : [...]`: present only when a KMS key is given. */
  conditional: boolean;
}

/** Index of the bracket that closes the one at `open`, skipping string literals. */
export function closing(text: string, open: number): number {
  const pairs: Record<string, string> = { "{": "}", "[": "]", "(": ")" };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      continue;
    }
    if (pairs[ch]) stack.push(pairs[ch]);
    else if (ch === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  throw new Error(`unbalanced expression at ${open}`);
}

/** The statements of a `jsonencode({...})` policy expression as cdktf renders it. */
export function statements(policy: string): Statement[] {
  const out: Statement[] = [];
  const conditionalFrom = policy.indexOf("? [] : [");
  for (let at = policy.indexOf('{"Sid" = '); at >= 0; at = policy.indexOf('{"Sid" = ', at + 1)) {
    const body = policy.slice(at, closing(policy, at) + 1);
    const field = (name: string) => {
      const start = body.indexOf(`"${name}" = `);
      if (start < 0) return undefined;
      const valueAt = start + name.length + 5;
      const first = body[valueAt]!;
      if (first === "[" || first === "{") return body.slice(valueAt, closing(body, valueAt) + 1);
      const rest = body.slice(valueAt);
      // A string literal, a reference, or a call such as format(...).
      if (first === '"') return rest.slice(0, rest.indexOf('"', 1) + 1);
      // Up to the "," or "}" that ends the value, outside brackets and strings (conditionals included).
      let depth = 0;
      for (let i = 0, quoted = false; i < rest.length; i++) {
        const c = rest[i]!;
        if (quoted) {
          if (c === "\\") i++;
          else if (c === '"') quoted = false;
        } else if (c === '"') quoted = true;
        else if ("([{".includes(c)) depth++;
        else if (")]".includes(c)) depth--;
        else if ((c === "," || c === "}") && depth === 0) return rest.slice(0, i);
        else if (c === "}") depth--;
      }
      return rest;
    };
    out.push({
      sid: JSON.parse(field("Sid")!) as string,
      effect: JSON.parse(field("Effect")!) as string,
      actions: JSON.parse(field("Action")!.replace(/ = /g, ":")) as string[],
      resource: field("Resource")!,
      condition: field("Condition"),
      conditional: conditionalFrom >= 0 && at > conditionalFrom,
    });
  }
  return out;
}

/** Every IAM action anywhere in the configuration: HCL policy expressions and JSON policy strings. */
export function allActions(tf: Json): string[] {
  const actions: string[] = [];
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      for (const match of value.matchAll(/"Action" = \[([^\]]*)\]/g)) {
        actions.push(...(JSON.parse(`[${match[1]}]`) as string[]));
      }
      if (value.startsWith("{") && value.includes('"Action"')) {
        const doc = JSON.parse(value) as { Statement: { Action: string | string[] }[] };
        for (const s of doc.Statement) actions.push(...[s.Action].flat());
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(tf);
  return actions;
}

/** Every string in the configuration. */
export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

/** Whether a version satisfies a Terraform constraint such as `>= 5.80, < 7.0`. */
export function satisfies(version: string, constraint: string): boolean {
  const parse = (v: string) => v.split(".").map(Number).concat([0, 0, 0]).slice(0, 3);
  const cmp = (a: number[], b: number[]) => a.reduce((r, x, i) => r || x - b[i]!, 0);
  return constraint.split(",").every((part) => {
    const [, op, v] = /^\s*(>=|<=|>|<|=|!=)?\s*([\d.]+)\s*$/.exec(part)!;
    const c = cmp(parse(version), parse(v!));
    switch (op ?? "=") {
      case ">=":
        return c >= 0;
      case "<=":
        return c <= 0;
      case ">":
        return c > 0;
      case "<":
        return c < 0;
      case "!=":
        return c !== 0;
      default:
        return c === 0;
    }
  });
}
