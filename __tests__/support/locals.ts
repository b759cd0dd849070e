/**
 * The synthesized module names what it computes once in `locals` (policy statements, the API key's
 * secret resource, the own log group names). Tests that read expressions as text see them with every
 * `local.<name>` (but `local.aws`, the provider's location) replaced by its value written as HCL, in the
 * form cdktf renders inline expressions: `{"Sid" = "...", "Action" = ["..."]}`, `[a, b]`, bare expressions.
 */
type Json = Record<string, unknown>;

/** A locals value as the HCL expression it stands for. */
function asHcl(value: unknown): string {
  if (typeof value === "string") {
    const single = /^\$\{([\s\S]*)\}$/.exec(value);
    // One interpolation spanning the whole string is the bare expression; anything else is a template.
    if (single && !single[1]!.includes("${")) return single[1]!;
    if (single && balanced(single[1]!)) return single[1]!;
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(asHcl).join(", ")}]`;
  if (value && typeof value === "object") {
    // Statements in the order the construct writes them (synthesis may sort keys).
    const entries = Object.entries(value).sort(([a], [b]) => rank(a) - rank(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)} = ${asHcl(v)}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

const STATEMENT_ORDER = ["Sid", "Effect", "Action", "Resource", "Condition"];
const rank = (key: string) => {
  const at = STATEMENT_ORDER.indexOf(key);
  return at < 0 ? STATEMENT_ORDER.length : at;
};

/** Whether `${` ... `}` pairs inside an expression close before its end (so the outer `${...}` is one). */
function balanced(inner: string): boolean {
  let depth = 0;
  for (let i = 0; i < inner.length; i++) {
    if (inner.startsWith("${", i)) {
      depth++;
      i++;
    } else if (inner[i] === "{") depth++;
    else if (inner[i] === "}" && --depth < 0) return false;
  }
  return depth === 0;
}

/** `tf` with every `local.<name>` reference (not `local.aws`) in its strings replaced by the local's value. */
export function inlineLocals<T>(tf: T): T {
  const locals = ((tf as Json).locals ?? {}) as Json;
  const names = Object.keys(locals).filter((name) => name !== "aws");
  if (names.length === 0) return tf;
  // A reference with its attribute accesses (`local.x.a`), which read inside an object local.
  const pattern = new RegExp(`local\\.(${names.join("|")})((?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\b`, "g");
  const valueOf = (name: string, path: string): string => {
    let value: unknown = locals[name];
    const attributes = path.split(".").filter(Boolean);
    while (attributes.length > 0 && value && typeof value === "object" && attributes[0]! in value) {
      value = (value as Json)[attributes.shift()!];
    }
    return `${asHcl(value)}${attributes.map((a) => `.${a}`).join("")}`;
  };
  const inline = (text: string): string => {
    let out = text;
    // Locals refer to other locals: repeat until none is left (they cannot form a cycle).
    for (let depth = 0; pattern.test(out); depth++) {
      if (depth > 10) throw new Error(`locals nest too deep in ${text}`);
      pattern.lastIndex = 0;
      out = out.replace(pattern, (_, name: string, path: string) => valueOf(name, path));
    }
    return out;
  };
  const visit = (value: unknown): unknown => {
    if (typeof value === "string") {
      // A string that is one reference to a local holding a string template reads as the template.
      const whole = /^\$\{local\.([a-z0-9_]+)\}$/.exec(value);
      if (whole && typeof locals[whole[1]!] === "string" && names.includes(whole[1]!)) {
        return inline(locals[whole[1]!] as string);
      }
      return inline(value);
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "locals" ? v : visit(v)]));
    }
    return value;
  };
  return visit(tf) as T;
}
