/**
 * Fails when the committed module (*.tf.json, dist/*.zip) or the README's generated tables differ
 * from what `npm run build` produces. Run it right after a build: it compares the work tree with git.
 */
import { execFileSync } from "node:child_process";
import { ROOT } from "./lib/bundle";

const paths = ["modules/mackerel-serverless", "modules/sfn-job-states", "README.md"];
const status = execFileSync("git", ["status", "--porcelain", "--", ...paths], { cwd: ROOT, encoding: "utf8" });
if (status.trim() !== "") {
  console.error("The committed module or README tables are stale; run `npm run build` and commit:\n" + status);
  console.error(execFileSync("git", ["diff", "--stat", "--", ...paths], { cwd: ROOT, encoding: "utf8" }));
  process.exit(1);
}
console.log(`up to date: ${paths.join(", ")}`);
