/**
 * Reading a spool message: the JSON envelope the functions wrote (`functions/shared/delivery/envelope.ts`),
 * validated with zod, so a corrupt or foreign message is dead-lettered with the reason instead of being
 * retried forever or posted half-understood.
 */
import * as z from "zod/mini";
import type { MackerelWrite } from "../shared/mackerel-client.js";
import { CHECK_STATUSES } from "../shared/names.js";
import { SPOOL_ENVELOPE_VERSION, type SpoolEnvelope } from "../shared/delivery/envelope.js";

const epochSeconds = z.number().check(z.int("must be whole epoch seconds"), z.nonnegative());
const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));
const text = z.string().check(z.minLength(1));

const writeSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("serviceMetrics"),
    service: text,
    points: z.array(z.object({ name: text, time: epochSeconds, value: finite })),
  }),
  z.object({
    kind: z.literal("hostMetrics"),
    points: z.array(z.object({ hostId: text, name: text, time: epochSeconds, value: finite })),
  }),
  z.object({
    kind: z.literal("checkReports"),
    reports: z.array(
      z.object({
        source: z.object({ type: z.literal("host"), hostId: text }),
        name: text,
        status: z.enum(CHECK_STATUSES),
        message: z.string(),
        occurredAt: epochSeconds,
        notificationInterval: z.optional(z.number().check(z.int())),
        maxCheckAttempts: z.optional(z.number().check(z.int())),
      }),
    ),
  }),
]);

// The schema and MackerelWrite describe the same writes, checked both ways at compile time: zod drops keys it
// does not know, so a field added to MackerelWrite but not here would be lost on the way through the spool.
type SchemaWrite = z.output<typeof writeSchema>;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const writeSchemaMatchesMackerelWrite: Same<SchemaWrite, MackerelWrite> = true;
void writeSchemaMatchesMackerelWrite;

const envelopeSchema = z.object({
  v: z.literal(SPOOL_ENVELOPE_VERSION, { error: `must be ${SPOOL_ENVELOPE_VERSION}` }),
  writes: z.array(writeSchema),
  firstAttemptAt: z.number().check(z.nonnegative()),
  origin: z.string(),
});

export type ParsedEnvelope = { ok: true; envelope: SpoolEnvelope } | { ok: false; reason: string };

/** Parses a message body; the reason names the field and the rule broken. */
export function parseEnvelope(body: string): ParsedEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "malformed: the message body is not JSON" };
  }
  const result = envelopeSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`);
    return { ok: false, reason: `malformed: ${issues.join("; ")}` };
  }
  return { ok: true, envelope: result.data };
}
