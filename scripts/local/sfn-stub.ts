/**
 * A local stand-in for Step Functions' ListExecutions, served by {@link LocalAwsJsonServer}
 * (awsJson1_0, `X-Amz-Target: AWSStepFunctions.ListExecutions`), following the API reference:
 * executions sorted by start time, newest first; `statusFilter`; `maxResults` 0–1000 (0 or absent: 100);
 * an opaque `nextToken` (InvalidToken when unknown); InvalidArn, StateMachineDoesNotExist,
 * StateMachineTypeNotSupported (express workflows); dates as epoch seconds. Faults: any operation can be
 * made to fail the next N times (ThrottlingException, ...).
 */
import { AwsServiceError, type AwsJsonHandlers } from "./aws-json-server";

export const SFN_TARGET = "AWSStepFunctions";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

export interface StubExecution {
  name: string;
  status: ExecutionStatus;
  /** Epoch ms. */
  startDate: number;
  /** Epoch ms. */
  stopDate?: number;
}

interface StubStateMachine {
  type: "STANDARD" | "EXPRESS";
  executions: StubExecution[];
}

const STATE_MACHINE_ARN = /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

export class SfnStub {
  readonly stateMachines = new Map<string, StubStateMachine>();
  /** Every ListExecutions request, in order (to assert paging). */
  readonly listCalls: { stateMachineArn: string; statusFilter?: string; maxResults?: number; nextToken?: string }[] =
    [];
  private readonly faults = new Map<string, { type: string; message: string; status: number; remaining: number }[]>();
  private readonly tokens = new Map<string, { arn: string; status?: string; offset: number }>();
  private tokenCount = 0;

  addStateMachine(arn: string, executions: StubExecution[] = [], type: "STANDARD" | "EXPRESS" = "STANDARD"): void {
    const existing = this.stateMachines.get(arn);
    if (existing) existing.executions.push(...executions);
    else this.stateMachines.set(arn, { type, executions: [...executions] });
  }

  /** The next `times` calls of `operation` fail with this error. */
  failNext(operation: string, type: string, options: { times?: number; status?: number; message?: string } = {}): void {
    const list = this.faults.get(operation) ?? [];
    list.push({
      type,
      status: options.status ?? 400,
      message: options.message ?? (type === "ThrottlingException" ? "Rate exceeded" : `${type} injected by the test`),
      remaining: options.times ?? 1,
    });
    this.faults.set(operation, list);
  }

  /** Drops every pending fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  handlers(): AwsJsonHandlers {
    return {
      [`${SFN_TARGET}.ListExecutions`]: (input) => {
        const fault = this.faults.get("ListExecutions")?.find((f) => f.remaining > 0);
        if (fault) {
          fault.remaining--;
          throw new AwsServiceError(fault.type, fault.message, fault.status);
        }
        return this.listExecutions(input);
      },
    };
  }

  private listExecutions(input: Record<string, unknown>): unknown {
    const arn = typeof input.stateMachineArn === "string" ? input.stateMachineArn : undefined;
    const statusFilter = typeof input.statusFilter === "string" ? input.statusFilter : undefined;
    const nextToken = typeof input.nextToken === "string" ? input.nextToken : undefined;
    const maxResults = input.maxResults === undefined ? 0 : Number(input.maxResults);
    this.listCalls.push({
      stateMachineArn: arn ?? "",
      ...(statusFilter ? { statusFilter } : {}),
      ...(input.maxResults !== undefined ? { maxResults } : {}),
      ...(nextToken ? { nextToken } : {}),
    });
    if (!arn) throw new AwsServiceError("ValidationException", "stateMachineArn or mapRunArn must be given");
    if (!STATE_MACHINE_ARN.test(arn)) throw new AwsServiceError("InvalidArn", `Invalid Arn: '${arn}'`);
    if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
      throw new AwsServiceError("ValidationException", "maxResults must be between 0 and 1000");
    }
    if (
      statusFilter &&
      !["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"].includes(statusFilter)
    ) {
      throw new AwsServiceError("ValidationException", `Invalid statusFilter: ${statusFilter}`);
    }
    const machine = this.stateMachines.get(arn);
    if (!machine) throw new AwsServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    if (machine.type === "EXPRESS") {
      throw new AwsServiceError(
        "StateMachineTypeNotSupported",
        "This operation is not supported by this type of state machine",
      );
    }
    let offset = 0;
    if (nextToken !== undefined) {
      const saved = this.tokens.get(nextToken);
      if (!saved || saved.arn !== arn || saved.status !== statusFilter) {
        throw new AwsServiceError("InvalidToken", "Invalid Token: the token is not valid for this request");
      }
      offset = saved.offset;
    }
    const pageSize = maxResults === 0 ? 100 : maxResults;
    const matching = machine.executions
      .filter((e) => !statusFilter || e.status === statusFilter)
      .sort((a, b) => b.startDate - a.startDate);
    const page = matching.slice(offset, offset + pageSize);
    let token: string | undefined;
    if (offset + page.length < matching.length) {
      token = `token-${++this.tokenCount}-${Math.random().toString(36).slice(2)}`;
      this.tokens.set(token, { arn, status: statusFilter, offset: offset + page.length });
    }
    return {
      executions: page.map((e) => ({
        executionArn: arn.replace(":stateMachine:", ":execution:") + `:${e.name}`,
        stateMachineArn: arn,
        name: e.name,
        status: e.status,
        startDate: e.startDate / 1000,
        ...(e.stopDate !== undefined ? { stopDate: e.stopDate / 1000 } : {}),
      })),
      ...(token ? { nextToken: token } : {}),
    };
  }
}
