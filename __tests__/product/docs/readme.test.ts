/**
 * The README's promises that code can check: the two set-up commands come first, and the Step Functions
 * snippet users copy is valid ASL.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validateDefinition } from "../../../scripts/local/step-functions";

const README = readFileSync(join(__dirname, "..", "..", "..", "README.md"), "utf8");

test("the README starts with the set-up command and the test command", () => {
  const firstBlock = README.slice(README.indexOf("```sh") + 5, README.indexOf("```", README.indexOf("```sh") + 5));
  const commands = firstBlock
    .trim()
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim());
  expect(commands).toEqual(["npm ci && npm run build", "npm test"]);
  // .ci/run runs the same test command.
  expect(readFileSync(join(__dirname, "..", "..", "..", ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
});

test("the Step Functions snippet (one job: Task, Catch, two Pass states, the metric Task) is valid ASL", () => {
  const start = README.indexOf('"JobA": {');
  expect(start).toBeGreaterThan(0);
  const states = README.slice(start, README.indexOf("```", start)).trim();
  const definition = JSON.parse(
    `{"StartAt": "JobA", "States": {${states}}}`
      .replace("${job_a_arn}", "arn:aws:lambda:us-east-1:123456789012:function:job-a")
      .replace("${metric_function_arn}", "arn:aws:lambda:us-east-1:123456789012:function:mackerel-serverless-metric"),
  );
  expect(validateDefinition(definition)).toEqual({ isValid: true, errors: [] });
});
