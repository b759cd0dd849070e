/** Shared helpers of the metric payload suites: a fixed clock and the validation error an event raises. */
import { parseMetricPayload } from "../../../functions/metric/payload";
import { MackerelValidationError } from "../../../functions/shared/errors";

export const NOW = 1_700_000_000; // 2023-11-14T22:13:20Z
export const DAY = 24 * 60 * 60;
export const parse = (event: unknown) => parseMetricPayload(event, "default-service", NOW);

/** The validation error `event` raises (fails the test when it parses). */
export function rejection(event: unknown): MackerelValidationError {
  try {
    parse(event);
  } catch (error) {
    expect(error).toBeInstanceOf(MackerelValidationError);
    return error as MackerelValidationError;
  }
  throw new Error(`expected ${JSON.stringify(event)?.slice(0, 200)} to be rejected`);
}

export const codePoints = (text: string) => [...text].length;
