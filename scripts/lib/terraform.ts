/**
 * Runs terraform offline against the machine's provider mirror (see AWS_NOTES.md): finds the mirror,
 * writes a CLI config that installs hashicorp/* only from it, and runs init/validate/plan in a
 * scratch copy of a root module, with an override file that gives the AWS provider fake credentials and
 * a local STS stand-in to learn its account from.
 *
 * `MACKEREL_SERVERLESS_TF_MIRROR` names the mirror root (the folder holding registry.terraform.io)
 * when it is somewhere unusual.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { ROOT } from "./bundle";

const CANDIDATE_MIRRORS = [
  "/opt/tf-plugins",
  "/usr/share/terraform/plugins",
  join(process.env.HOME ?? "/root", ".terraform.d", "plugins"),
];

/** Folder holding `registry.terraform.io/hashicorp/aws/<version>`, or undefined. */
export function findProviderMirror(): string | undefined {
  const hasAws = (root: string) => existsSync(join(root, "registry.terraform.io", "hashicorp", "aws"));
  const configured = process.env.MACKEREL_SERVERLESS_TF_MIRROR;
  if (configured) return hasAws(configured) ? configured : undefined;
  for (const candidate of CANDIDATE_MIRRORS) if (hasAws(candidate)) return candidate;
  try {
    const found = execFileSync("find", ["/", "-xdev", "-type", "d", "-name", "registry.terraform.io"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 20_000,
    });
    for (const dir of found.split("\n").filter(Boolean)) {
      const root = join(dir, "..");
      if (hasAws(root)) return root;
    }
  } catch {
    // find exits non-zero on unreadable folders; what it printed before that is still used above.
  }
  return undefined;
}

export type TerraformAvailability = { ok: true; mirror: string; version: string } | { ok: false; reason: string };

let cached: TerraformAvailability | undefined;

/** Whether terraform and the provider mirror are here; the reason when not. */
export function terraformAvailability(): TerraformAvailability {
  if (cached) return cached;
  const version = spawnSync("terraform", ["version", "-json"], { encoding: "utf8" });
  if (version.status !== 0) {
    cached = { ok: false, reason: "the terraform binary is not on PATH" };
    return cached;
  }
  const mirror = findProviderMirror();
  cached = mirror
    ? { ok: true, mirror, version: (JSON.parse(version.stdout) as { terraform_version: string }).terraform_version }
    : { ok: false, reason: "no hashicorp/aws provider mirror found (set MACKEREL_SERVERLESS_TF_MIRROR)" };
  return cached;
}

/** The account and region a workspace's provider gets unless a test says otherwise. */
export const OFFLINE_ACCOUNT_ID = "123456789012";
export const OFFLINE_REGION = "us-east-1";

/** Where the provider plans: its region, and the account the local STS stand-in answers with. */
export interface OfflineProvider {
  region?: string;
  accountId?: string;
}

/**
 * Provider settings for planning with no AWS account, merged into the root's provider by Terraform. The
 * provider validates its credentials with STS GetCallerIdentity, as against AWS, and learns its account
 * from the answer: here a local stand-in (scripts/local/sts-server.mjs) that answers with the account
 * that ends the access key id.
 */
function offlineOverride(stsUrl: string, provider: OfflineProvider, endpoints: Record<string, string> = {}): string {
  const more = Object.entries(endpoints)
    .map(([service, url]) => `\n    ${service} = "${url}"`)
    .join("");
  return `provider "aws" {
  region                  = "${provider.region ?? OFFLINE_REGION}"
  access_key              = "AKIDOFFLINE${provider.accountId ?? OFFLINE_ACCOUNT_ID}"
  secret_key              = "offline"
  skip_metadata_api_check = true
  endpoints {
    sts = "${stsUrl}"${more}
  }
}
`;
}

/**
 * The environment variable that hands every process of a run one STS stand-in: jest's global set-up starts
 * it once and sets this (its workers inherit it); a process without it starts its own on first use.
 */
export const LOCAL_STS_URL_ENV = "MACKEREL_SERVERLESS_LOCAL_STS_URL";

/** A running STS stand-in (scripts/local/sts-server.mjs) and how to stop it. */
export interface LocalSts {
  url: string;
  /** Stops the process and removes its port file; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the STS stand-in in a process of its own (terraform runs in spawnSync, which blocks this event
 * loop) and waits for its port. It also exits when this process does (its stdin closes).
 */
export function startLocalSts(): LocalSts {
  const portDir = mkdtempSync(join(tmpdir(), "sts-"));
  const portFile = join(portDir, "port");
  const child = spawn(process.execPath, [join(ROOT, "scripts", "local", "sts-server.mjs"), portFile], {
    stdio: ["pipe", "ignore", "inherit"],
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(portFile) || readFileSync(portFile, "utf8") === "") {
    if (Date.now() > deadline) {
      child.kill();
      throw new Error("the local STS stand-in did not start within 10 s");
    }
    Atomics.wait(sleeper, 0, 0, 20);
  }
  const url = `http://127.0.0.1:${readFileSync(portFile, "utf8")}`;
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Held while we wait: with the unref'd child as the only thing left, Node would end the process in the
        // middle of this await, exiting 0 whatever the caller (jest's teardown, with failed tests) was to report.
        child.ref();
        child.stdin?.end();
        await exited;
      }
      rmSync(portDir, { recursive: true, force: true });
    },
  };
}

let ownSts: LocalSts | undefined;

/**
 * The URL of the run's STS stand-in ({@link LOCAL_STS_URL_ENV}), or of this process's own, started on
 * first use and stopped when this process exits.
 */
export function localStsUrl(): string {
  const shared = process.env[LOCAL_STS_URL_ENV];
  if (shared) return shared;
  if (!ownSts) {
    const sts = startLocalSts();
    ownSts = sts;
    process.once("exit", () => void sts.stop());
  }
  return ownSts.url;
}

export interface TerraformResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A scratch copy of a root module (with the module it uses) where terraform can run offline. */
export class TerraformWorkspace {
  private constructor(
    readonly dir: string,
    private readonly scratch: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly provider: OfflineProvider,
  ) {}

  /**
   * Points the provider at more local endpoints (service → URL), beside the STS stand-in. One override
   * file holds them all: Terraform replaces a whole `endpoints` block from a later override file.
   */
  useEndpoints(endpoints: Record<string, string>): void {
    writeFileSync(join(this.dir, "offline_override.tf"), offlineOverride(localStsUrl(), this.provider, endpoints));
  }

  /**
   * Copies the synthesized modules and the root module (a folder of the repository, files given as a
   * map, or a self-contained folder from elsewhere) to a scratch folder with the same relative layout.
   */
  static create(
    root: string | { files: Record<string, string>; at?: string } | { copyOf: string },
    provider: OfflineProvider = {},
  ): TerraformWorkspace {
    const availability = terraformAvailability();
    if (!availability.ok) throw new Error(`terraform cannot run here: ${availability.reason}`);
    const scratch = mkdtempSync(join(tmpdir(), "tf-"));
    // Every synthesized module (not the CDKTF sources), at the same relative path as in the repository.
    for (const module of readdirSync(join(ROOT, "modules"))) {
      if (module === "construct") continue;
      cpSync(join(ROOT, "modules", module), join(scratch, "modules", module), { recursive: true });
    }
    let dir: string;
    if (typeof root === "object" && "copyOf" in root) {
      // A self-contained root from elsewhere, e.g. a CDKTF stack's synthesized folder with its assets.
      dir = join(scratch, "stack");
      cpSync(root.copyOf, dir, { recursive: true });
    } else if (typeof root === "string") {
      dir = join(scratch, relative(ROOT, root));
      cpSync(root, dir, {
        recursive: true,
        filter: (src) => !/[/\\](\.terraform|\.terraform\.lock\.hcl|terraform\.tfstate.*)$/.test(src),
      });
    } else {
      dir = join(scratch, root.at ?? "examples/scratch");
      for (const [name, content] of Object.entries(root.files)) {
        const file = join(dir, name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    writeFileSync(join(dir, "offline_override.tf"), offlineOverride(localStsUrl(), provider));
    const cliConfig = join(scratch, "terraformrc");
    writeFileSync(
      cliConfig,
      `provider_installation {
  filesystem_mirror {
    path    = "${availability.mirror}"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
`,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    return new TerraformWorkspace(dir, scratch, env, provider);
  }

  /**
   * A scratch root module of `hcl` (module blocks, outputs) under `at`, with the AWS provider declared:
   * the usual way tests call the module with chosen arguments.
   */
  static rootModule(hcl: string, at = "examples/scratch", provider: OfflineProvider = {}): TerraformWorkspace {
    const main = `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {}
${hcl}`;
    return TerraformWorkspace.create({ at, files: { "main.tf": main } }, provider);
  }

  /** The root module's files (e.g. to list them). */
  files(): string[] {
    return readdirSync(this.dir);
  }

  run(args: string[]): TerraformResult {
    const result = spawnSync("terraform", args, { cwd: this.dir, env: this.env, encoding: "utf8", timeout: 300_000 });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  init(): TerraformResult {
    // A full init: roots that declare a backend (cdktf stacks use a local one) cannot plan without it.
    return this.run(["init", "-input=false", "-no-color"]);
  }

  validate(): TerraformResult {
    return this.run(["validate", "-no-color"]);
  }

  /** `terraform plan` with variables; returns the result (status 0 = success). */
  plan(vars: Record<string, string> = {}): TerraformResult {
    const args = ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false"];
    for (const [key, value] of Object.entries(vars)) args.push("-var", `${key}=${value}`);
    return this.run(args);
  }

  /** `terraform plan -out` + `show -json`: the planned values, for assertions. */
  planJson(vars: Record<string, string> = {}): { result: TerraformResult; plan?: Record<string, unknown> } {
    const args = ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-out=plan.tfplan"];
    for (const [key, value] of Object.entries(vars)) args.push("-var", `${key}=${value}`);
    const result = this.run(args);
    if (result.status !== 0) return { result };
    const shown = this.run(["show", "-json", "plan.tfplan"]);
    return { result, plan: JSON.parse(shown.stdout) as Record<string, unknown> };
  }

  remove(): void {
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
