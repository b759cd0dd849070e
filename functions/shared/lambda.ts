/** The part of Lambda's context object the functions use (no @types/aws-lambda needed at run time). */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
}
