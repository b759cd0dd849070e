// Runs inside the child process of LocalLambda: loads a bundled handler the way Lambda's Node.js
// runtime does (ESM import of index.mjs) and serves invocations over IPC, one at a time.
import { format } from "node:util";
import { pathToFileURL } from "node:url";

// Lambda's JSON log format: each console call becomes one JSON record; an object logged alone is the message.
let currentRequestId;
for (const [method, level] of [
  ["debug", "DEBUG"],
  ["info", "INFO"],
  ["log", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
]) {
  console[method] = (...args) => {
    const message = args.length === 1 && args[0] !== null && typeof args[0] === "object" ? args[0] : format(...args);
    process.stdout.write(
      `${JSON.stringify({ timestamp: new Date().toISOString(), level, requestId: currentRequestId, message })}\n`,
    );
  };
}

const [, , codeDir] = process.argv;
const started = performance.now();
const mod = await import(pathToFileURL(`${codeDir}/index.mjs`).href);
const initMs = performance.now() - started;
if (typeof mod.handler !== "function") {
  process.send({
    type: "init-error",
    errorType: "Runtime.HandlerNotFound",
    errorMessage: "index.handler is not a function",
  });
  process.exit(1);
}
process.send({ type: "ready", initMs });

// The parent (a test, the demo) went away without stopping us: a container without its runtime ends.
process.on("disconnect", () => process.exit(0));

process.on("message", async (message) => {
  if (message.type === "stats") {
    // Peak resident memory of this container so far (what Lambda's memory limit applies to).
    process.send({ type: "stats", maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    return;
  }
  if (message.type !== "invoke") return;
  const deadline = Date.now() + message.timeoutMs;
  currentRequestId = message.requestId;
  const context = {
    awsRequestId: message.requestId,
    functionName: message.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${message.functionName}`,
    memoryLimitInMB: "128",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await mod.handler(message.event, context);
    process.send({ type: "result", requestId: message.requestId, result: result === undefined ? null : result });
  } catch (error) {
    process.send({
      type: "error",
      requestId: message.requestId,
      errorType: error?.name ?? "Error",
      errorMessage: error?.message ?? String(error),
    });
  }
});
