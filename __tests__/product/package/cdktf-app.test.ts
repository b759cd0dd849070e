/**
 * The npm package as a CDKTF user gets it: `npm pack` at the repository root, the tarball installed into
 * a fresh app shaped like `cdktf init --template=typescript` (CommonJS, ts-node), with only the app's own
 * cdktf, constructs and @cdktf/provider-aws beside it. The app type-checks, synthesizes with ts-node and
 * plans offline; an ESM app imports the same named exports; a bad literal prop fails at synth naming it.
 * Installs come from the local npm cache first (the repository's own devDependencies put them there).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform } from "../../support/terraform";

const version = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

/** What `cdktf init --template=typescript` writes for tsconfig.json (its compiler options). */
const CDKTF_TEMPLATE_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ["es2018"],
    module: "CommonJS",
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: "ES2018",
    incremental: true,
    skipLibCheck: true,
  },
  include: ["**/*.ts"],
  exclude: ["node_modules", "cdktf.out"],
};

const MAIN_TS = `import { Construct } from "constructs";
import { App, Fn, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { jobStates, MackerelServerless } from "mackerel-serverless";

class MonitoringStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: "ap-northeast-1" });
    const mackerel = new MackerelServerless(this, "mackerel", {
      name: "app",
      apiKeySecretArn: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:mackerel-api-key-AbCdEf",
      serviceName: process.env.SERVICE_NAME ?? "shop",
      httpChecks: [{ name: "web", url: "https://example.com/health", expectedStatus: [200, 204] }],
      logRules: [{ name: "errors", include: ["ERROR"], recoverAfterMinutes: 15 }],
    });
    const states = jobStates({
      name: "Import",
      state: { Type: "Task", Resource: "arn:aws:lambda:ap-northeast-1:123456789012:function:import" },
      metricFunctionArn: mackerel.metric.lambda.arn,
      metricName: "jobs.failed.import",
    });
    new TerraformOutput(this, "states", { value: Fn.jsonencode(states) });
  }
}

const app = new App();
new MonitoringStack(app, "monitoring");
app.synth();
`;

const ESM_CHECK = `import { jobStates, MackerelServerless } from "mackerel-serverless";
console.log(typeof MackerelServerless, typeof jobStates);
`;

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the npm package (npm pack at the repository root)", () => {
  let scratch: string;
  let app: string;
  let tarball: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "pack-"));
    // prepack builds lib/ (npm run build:lib): the package is what the sources say now.
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, packed[0]!.filename);
    app = join(scratch, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify(
        {
          name: "monitoring-app",
          version: "1.0.0",
          main: "main.js",
          types: "main.ts",
          private: true,
          scripts: { synth: "cdktf synth" },
          dependencies: {
            "mackerel-serverless": `file:${tarball}`,
            "@cdktf/provider-aws": version("@cdktf/provider-aws"),
            cdktf: version("cdktf"),
            constructs: version("constructs"),
          },
          devDependencies: {
            "@types/node": version("@types/node"),
            "ts-node": version("ts-node"),
            typescript: version("typescript"),
          },
        },
        null,
        2,
      ),
    );
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify(CDKTF_TEMPLATE_TSCONFIG, null, 2));
    writeFileSync(
      join(app, "cdktf.json"),
      JSON.stringify({ language: "typescript", app: "npx ts-node main.ts", projectId: "test", terraformProviders: [] }),
    );
    writeFileSync(join(app, "main.ts"), MAIN_TS);
    writeFileSync(join(app, "esm-check.mjs"), ESM_CHECK);
    const install = run(app, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]);
    expect([install.status, install.stderr]).toEqual([0, expect.any(String)]);
  }, 600_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("holds compiled JavaScript, declarations and the zips, and no sources", () => {
    const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(listed).toEqual(
      expect.arrayContaining([
        "package/lib/index.js",
        "package/lib/types/modules/construct/index.d.ts",
        "package/modules/mackerel-serverless/main.tf.json",
        ...["check", "logs", "metric", "sender"].map((fn) => `package/modules/mackerel-serverless/dist/${fn}.zip`),
        "package/modules/sfn-job-states/main.tf.json",
      ]),
    );
    expect(listed.filter((file) => /\.ts$/.test(file) && !/\.d\.ts$/.test(file))).toEqual([]);
  });

  test("peer dependencies only: none of the functions' runtime dependencies is installed with it", () => {
    const manifest = JSON.parse(
      readFileSync(join(app, "node_modules", "mackerel-serverless", "package.json"), "utf8"),
    ) as Record<string, Record<string, string> | undefined>;
    expect(manifest.dependencies).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies!).sort()).toEqual(["@cdktf/provider-aws", "cdktf", "constructs"]);
    const installed = readdirSync(join(app, "node_modules"));
    expect(installed).not.toContain("@aws-sdk");
    expect(installed).not.toContain("undici");
    expect(existsSync(join(app, "node_modules", "mackerel-serverless", "node_modules"))).toBe(false);
  });

  test("type-checks with the cdktf template's tsconfig", () => {
    const result = run(app, join(app, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test("an ESM app imports the same named exports", () => {
    const result = run(app, process.execPath, ["esm-check.mjs"]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("function function");
  });

  test("a bad literal prop fails at synth, naming the prop", () => {
    const result = run(app, join(app, "node_modules", ".bin", "ts-node"), ["main.ts"], { SERVICE_NAME: "my service" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("serviceName: must be 2-63 characters of A-Za-z0-9_-");
  });

  describeWithTerraform("synthesized with ts-node", () => {
    test("plans offline: the functions from the shipped zips, the checks and rules as given", () => {
      const synth = run(app, join(app, "node_modules", ".bin", "ts-node"), ["main.ts"]);
      expect([synth.status, synth.stderr]).toEqual([0, ""]);
      const stack = join(app, "cdktf.out", "stacks", "monitoring");
      const workspace = TerraformWorkspace.create({ copyOf: stack }, { region: "ap-northeast-1" });
      try {
        expect(workspace.init().status).toBe(0);
        const { result, plan } = workspace.planJson();
        expect(result.stderr).toBe("");
        const changes = plan!.resource_changes as { address: string; change: { after: Record<string, unknown> } }[];
        const functions = changes.filter((c) => c.address.startsWith("aws_lambda_function."));
        expect(functions.map((c) => c.change.after.function_name).sort()).toEqual([
          "app-check",
          "app-logs",
          "app-metric",
          "app-sender",
        ]);
        for (const fn of functions) {
          expect(fn.change.after).toMatchObject({ runtime: "nodejs22.x", filename: expect.stringMatching(/\.zip$/) });
        }
        const rule = changes.find((c) => c.address === 'aws_cloudwatch_event_target.http_check["web"]')!;
        expect(JSON.parse(rule.change.after.input as string)).toEqual({
          check: { name: "web", url: "https://example.com/health", expected_status: [200, 204], kind: "http" },
        });
        // The rules travel in a state table item (the environment holds their digest), in the variable's form.
        const item = changes.find((c) => c.address === "aws_dynamodb_table_item.config_log_rules")!;
        const rulesJson = (JSON.parse(item.change.after.item as string) as { json: { S: string } }).json.S;
        expect(JSON.parse(rulesJson)).toEqual([{ name: "errors", include: ["ERROR"], recover_after_minutes: 15 }]);
        // The function's environment is known only after apply (it holds the spool's URL): read the synthesized stack.
        const synthesized = JSON.parse(readFileSync(join(stack, "cdk.tf.json"), "utf8")) as {
          resource: { aws_lambda_function: Record<string, { environment: { variables: Record<string, string> } }> };
        };
        const env = synthesized.resource.aws_lambda_function.logs!.environment.variables;
        expect(env.MACKEREL_LOG_RULES).toBeUndefined();
        expect(env.MACKEREL_LOG_RULES_SHA256).toBe(createHash("sha256").update(rulesJson).digest("hex"));
      } finally {
        workspace.remove();
      }
    });
  });
});
