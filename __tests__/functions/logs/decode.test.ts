import { gzipSync } from "node:zlib";
import { decodeSubscriptionEvent, interpretPayload, MAX_DECOMPRESSED_BYTES } from "../../../functions/logs/decode";
import { encodeAwslogs, makePayload, makeSubscriptionEvent, T0, textLine } from "./fixtures";

function expectCorrupt(result: ReturnType<typeof decodeSubscriptionEvent>, reason: string, detail?: RegExp) {
  expect(result.kind).toBe("corrupt");
  if (result.kind !== "corrupt") return;
  expect(result.reason).toBe(reason);
  if (detail) expect(result.detail).toMatch(detail);
}

describe("decodeSubscriptionEvent: valid payloads", () => {
  test("a DATA_MESSAGE decodes to its payload, events in order and untouched", () => {
    const lines = [textLine("INFO", "hello"), "plain line", '{"level":"ERROR","message":"x"}'];
    const result = decodeSubscriptionEvent(makeSubscriptionEvent({ logGroup: "/aws/lambda/api", events: lines }));
    expect(result.kind).toBe("data");
    if (result.kind !== "data") return;
    expect(result.payload.logGroup).toBe("/aws/lambda/api");
    expect(result.payload.owner).toBe("123456789012");
    expect(result.payload.subscriptionFilters).toEqual(["mackerel-serverless"]);
    expect(result.payload.logEvents.map((e) => e.message)).toEqual(lines);
    expect(result.payload.logEvents.map((e) => e.timestamp)).toEqual([T0, T0 + 1, T0 + 2]);
  });

  test("a CONTROL_MESSAGE is recognized (and carries nothing to process)", () => {
    expect(decodeSubscriptionEvent(makeSubscriptionEvent({ messageType: "CONTROL_MESSAGE" }))).toEqual({
      kind: "control",
    });
  });

  test("a DATA_MESSAGE with no events is data with an empty list, not an error", () => {
    const result = decodeSubscriptionEvent(makeSubscriptionEvent({ events: [] }));
    expect(result).toMatchObject({ kind: "data", payload: { logEvents: [] } });
  });

  test("policyLevel of an account-level subscription policy is kept", () => {
    const result = decodeSubscriptionEvent(
      makeSubscriptionEvent({ events: ["x"], policyLevel: "ACCOUNT_LEVEL_POLICY" }),
    );
    expect(result).toMatchObject({ kind: "data", payload: { policyLevel: "ACCOUNT_LEVEL_POLICY" } });
  });

  test("fields CloudWatch may add later do not make the payload corrupt", () => {
    const payload = { ...makePayload({ events: ["x"] }), futureField: { a: 1 } };
    expect(decodeSubscriptionEvent(encodeAwslogs(JSON.stringify(payload))).kind).toBe("data");
  });

  test("multi-byte and emoji messages survive base64 + gzip + UTF-8 intact", () => {
    const messages = ["日本語のログ 🎉", "emoji 👨‍👩‍👧‍👦 family", "ünïcødé"];
    const result = decodeSubscriptionEvent(makeSubscriptionEvent({ events: messages }));
    expect(result.kind === "data" && result.payload.logEvents.map((e) => e.message)).toEqual(messages);
  });

  test("10,000 events (a 1 MB-class payload) decode completely and quickly", () => {
    const events = Array.from({ length: 10_000 }, (_, i) =>
      textLine(i % 100 === 0 ? "ERROR" : "INFO", `event ${i}`, i),
    );
    const event = makeSubscriptionEvent({ events });
    const started = performance.now();
    const result = decodeSubscriptionEvent(event);
    const elapsed = performance.now() - started;
    expect(result.kind).toBe("data");
    if (result.kind !== "data") return;
    expect(result.payload.logEvents).toHaveLength(10_000);
    expect(result.payload.logEvents[9_999]!.message).toBe(events[9_999]);
    // Generous: it takes ~10 ms; this only catches an accidental quadratic step.
    expect(elapsed).toBeLessThan(1_000);
  });

  test("the payload is returned as parsed, not copied (no per-event allocation)", () => {
    const payload = makePayload({ events: ["a", "b"] });
    const result = interpretPayload(payload);
    expect(result.kind === "data" && result.payload).toBe(payload);
  });
});

describe("decodeSubscriptionEvent: corrupt payloads are reported, never thrown", () => {
  test.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "awslogs"],
    ["no awslogs", { Records: [] }],
    ["awslogs.data not a string", { awslogs: { data: 42 } }],
  ])("an event that is not a subscription event (%s) is a shape problem", (_name, event) => {
    expectCorrupt(decodeSubscriptionEvent(event), "shape", /awslogs\.data/);
  });

  test("characters outside the base64 alphabet are detected (Node's decoder would skip them)", () => {
    const { data } = makeSubscriptionEvent({ events: ["x"] }).awslogs;
    const bad = `${data.slice(0, 8)}!!!!${data.slice(12)}`;
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: bad } }), "base64", /alphabet/);
  });

  test("whitespace inside the base64 text is refused", () => {
    const { data } = makeSubscriptionEvent({ events: ["x"] }).awslogs;
    const bad = `${data.slice(0, 4)}    ${data.slice(8)}`;
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: bad } }), "base64");
  });

  test("a length that is not a multiple of 4 is refused", () => {
    const { data } = makeSubscriptionEvent({ events: ["x"] }).awslogs;
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: data.slice(0, -1) } }), "base64", /multiple of 4/);
  });

  test("padding in the middle is refused", () => {
    const { data } = makeSubscriptionEvent({ events: ["x"] }).awslogs;
    const bad = `${data.slice(0, 6)}==${data.slice(8)}`;
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: bad } }), "base64");
  });

  test("an empty string is a base64 problem", () => {
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: "" } }), "base64", /empty/);
  });

  test("valid base64 of something that is not gzip is a gzip problem", () => {
    const data = Buffer.from(JSON.stringify(makePayload({ events: ["x"] }))).toString("base64");
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data } }), "gzip", /1f 8b/);
  });

  test("truncated gzip data is a gzip problem", () => {
    const gz = gzipSync(JSON.stringify(makePayload({ events: ["x".repeat(1000)] })));
    const data = gz.subarray(0, gz.length - 20).toString("base64");
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data } }), "gzip");
  });

  test("gzip data with a corrupted body (CRC mismatch) is a gzip problem", () => {
    const gz = Buffer.from(gzipSync(JSON.stringify(makePayload({ events: ["y".repeat(200)] }))));
    gz[gz.length - 6]! ^= 0xff; // inside the CRC32 trailer
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: gz.toString("base64") } }), "gzip");
  });

  test.each([
    ["understates", 16],
    ["overstates", 0x7fffffff],
  ])(
    "a gzip trailer that %s the size (the output buffer is sized from it) is a gzip problem, not a crash",
    (_how, size) => {
      const gz = Buffer.from(gzipSync(JSON.stringify(makePayload({ events: ["z".repeat(5000)] }))));
      gz.writeUInt32LE(size, gz.length - 4);
      expectCorrupt(decodeSubscriptionEvent({ awslogs: { data: gz.toString("base64") } }), "gzip");
    },
  );

  test("gzip data too short to hold a trailer is a gzip problem", () => {
    const data = Buffer.from([0x1f, 0x8b, 0x08, 0x00]).toString("base64");
    expectCorrupt(decodeSubscriptionEvent({ awslogs: { data } }), "gzip");
  });

  test("a payload that decompresses beyond the limit (gzip bomb) is refused without inflating it all", () => {
    const bomb = encodeAwslogs(Buffer.alloc(2 * 1024 * 1024, 0x20));
    expectCorrupt(decodeSubscriptionEvent(bomb, { maxDecompressedBytes: 1024 * 1024 }), "gzip", /more than 1048576/);
    expect(MAX_DECOMPRESSED_BYTES).toBeGreaterThanOrEqual(8 * 1024 * 1024);
  });

  test("gzip of text that is not JSON is a json problem", () => {
    expectCorrupt(decodeSubscriptionEvent(encodeAwslogs("not json {")), "json");
  });

  test("gzip of truncated JSON is a json problem", () => {
    const text = JSON.stringify(makePayload({ events: ["x"] }));
    expectCorrupt(decodeSubscriptionEvent(encodeAwslogs(text.slice(0, -5))), "json");
  });

  test.each([
    ["an array", [], /JSON object/],
    ["a number", 42, /JSON object/],
    ["an unknown messageType", { ...makePayload(), messageType: "SOMETHING" }, /messageType.*"SOMETHING"/],
    ["no messageType", { logGroup: "/x" }, /messageType/],
    ["logGroup missing", { ...makePayload(), logGroup: undefined }, /^logGroup/],
    ["logGroup empty", { ...makePayload(), logGroup: "" }, /^logGroup/],
    ["owner a number", { ...makePayload(), owner: 1 }, /^owner/],
    ["logStream missing", { ...makePayload(), logStream: undefined }, /^logStream/],
    ["subscriptionFilters not strings", { ...makePayload(), subscriptionFilters: [1] }, /^subscriptionFilters/],
    ["logEvents missing", { ...makePayload(), logEvents: undefined }, /^logEvents: must be an array/],
    ["logEvents an object", { ...makePayload(), logEvents: {} }, /^logEvents: must be an array/],
    ["policyLevel a number", { ...makePayload(), policyLevel: 1 }, /^policyLevel/],
  ])("%s is a shape problem naming the field", (_name, payload, detail) => {
    expectCorrupt(decodeSubscriptionEvent(encodeAwslogs(JSON.stringify(payload))), "shape", detail);
  });

  test.each([
    ["null", null, /^logEvents\[1\] must be an object/],
    ["without id", { timestamp: T0, message: "m" }, /^logEvents\[1\]\.id/],
    ["with a numeric id", { id: 5, timestamp: T0, message: "m" }, /^logEvents\[1\]\.id/],
    ["with a string timestamp", { id: "1", timestamp: "2023", message: "m" }, /^logEvents\[1\]\.timestamp/],
    ["without message", { id: "1", timestamp: T0 }, /^logEvents\[1\]\.message/],
    ["with an object message", { id: "1", timestamp: T0, message: { a: 1 } }, /^logEvents\[1\]\.message/],
  ])("an event %s is a shape problem naming its index and field", (_name, bad, detail) => {
    const payload = makePayload({ events: ["ok"] });
    (payload.logEvents as unknown[]).push(bad);
    expectCorrupt(decodeSubscriptionEvent(encodeAwslogs(JSON.stringify(payload))), "shape", detail);
  });

  test("a non-finite timestamp is refused (interpretPayload sees values JSON cannot carry)", () => {
    const payload = makePayload({ events: ["ok"] });
    (payload.logEvents as { timestamp: number }[])[0]!.timestamp = Number.NaN;
    expect(interpretPayload(payload)).toMatchObject({ kind: "corrupt", reason: "shape" });
  });

  test("details stay short even when the bad value is huge", () => {
    const payload = { ...makePayload(), messageType: "X".repeat(100_000) };
    const result = decodeSubscriptionEvent(encodeAwslogs(JSON.stringify(payload)));
    expect(result.kind === "corrupt" && result.detail.length).toBeLessThan(400);
  });
});
