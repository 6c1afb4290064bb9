import type { z } from "zod";

/** One line per problem, `path: message`, so an HTTP `{error}` or an Error message stays readable. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
