/**
 * The committed module in files by concern, as a hand-written module would be: `versions.tf.json`
 * (Terraform and provider versions), `variables.tf.json`, `outputs.tf.json`, and the resources, data sources
 * and locals by feature: `main.tf.json` (where the module runs, the API key, the state table, the metric
 * function), `spool.tf.json`, `logs.tf.json` (the log pipeline: logs function, subscriptions, the tick),
 * `checks.tf.json` (the check function and its schedules) and `alarms.tf.json`. Terraform reads every
 * `*.tf.json` of the directory as one configuration, so the split changes no address.
 */

/** The files of the module, in the order a reader meets them. */
export const MODULE_FILES = ["versions", "variables", "main", "spool", "logs", "checks", "alarms", "outputs"] as const;
export type ModuleFile = (typeof MODULE_FILES)[number];

/** The feature of a construct path (`<stack>/<construct>/<feature>/...`): the file its resources go to. */
export function fileOfPath(path: string): ModuleFile {
  const feature = path.split("/")[2];
  return feature === "spool" || feature === "logs" || feature === "checks" || feature === "alarms" ? feature : "main";
}

/** The feature of a local, by its name (the construct names each after its feature). */
export function fileOfLocal(name: string): ModuleFile {
  if (name.startsWith("sender_")) return "spool";
  if (name.startsWith("logs_") || name === "own_log_group_names") return "logs";
  if (name.startsWith("check_") || name.startsWith("opensearch_")) return "checks";
  return "main";
}

type Block = Record<string, Record<string, unknown>>;

/**
 * Splits a child module's Terraform JSON into {@link MODULE_FILES}; `fileOf` gives the file of a resource or
 * data source (`resource.<type>.<name>` / `data.<type>.<name>`). Files without content are left out.
 */
export function splitModule(
  tf: Record<string, unknown>,
  fileOf: (address: string) => ModuleFile,
): Partial<Record<ModuleFile, Record<string, unknown>>> {
  const files: Partial<Record<ModuleFile, Record<string, unknown>>> = {};
  const into = (file: ModuleFile) => (files[file] ??= {});
  for (const [key, value] of Object.entries(tf)) {
    if (key === "terraform") into("versions").terraform = value;
    else if (key === "variable") into("variables").variable = value;
    else if (key === "output") into("outputs").output = value;
    else if (key === "locals") {
      for (const [name, local] of Object.entries(value as Record<string, unknown>)) {
        ((into(fileOfLocal(name)).locals ??= {}) as Record<string, unknown>)[name] = local;
      }
    } else if (key === "resource" || key === "data") {
      for (const [type, byName] of Object.entries(value as Block)) {
        for (const [name, body] of Object.entries(byName)) {
          const section = (into(fileOf(`${key}.${type}.${name}`))[key] ??= {}) as Block;
          (section[type] ??= {})[name] = body;
        }
      }
    } else throw new Error(`the module has a top-level ${key} that no file takes`);
  }
  return Object.fromEntries(MODULE_FILES.filter((f) => files[f]).map((f) => [f, files[f]]));
}

/** The module's files merged back into one configuration (what Terraform reads). */
export function mergeModuleFiles(files: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const file of files) {
    for (const [key, value] of Object.entries(file)) {
      if (key === "resource" || key === "data") {
        const section = (merged[key] ??= {}) as Block;
        for (const [type, byName] of Object.entries(value as Block)) Object.assign((section[type] ??= {}), byName);
      } else merged[key] = { ...(merged[key] ?? {}), ...(value as Record<string, unknown>) };
    }
  }
  return merged;
}
