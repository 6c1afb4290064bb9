import { z } from "zod";
import { didYouMean } from "./did-you-mean.js";
import { ConfigurationError } from "../errors/index.js";

/**
 * The one way options are read. `schema` is a strict zod object (an unknown key is an error) that
 * holds the defaults; the result is `input` with every default filled in. A bad value throws a
 * `ConfigurationError` with one line per problem, naming the option and the value received:
 *
 * `Invalid Transcriber options: receiver.port: must be <= 65535, got 70000; reciever: unknown option (did you mean "receiver"?)`
 *
 * `owner` is what the options belong to (`"Transcriber"`, `"genericProvider"`). Values of options
 * whose name says they are secret (`apiKey`, `webhookSecret`) are never echoed.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, owner: string): z.output<S> {
  /** Keys each object that had unknown keys accepts, for the did-you-mean. */
  const knownKeys = new Map<unknown, string[]>();
  const parsed = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys" && issue.inst instanceof z.ZodObject) {
        knownKeys.set(issue.input, Object.keys(issue.inst.shape));
      }
      return problem(issue);
    },
  });
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) => linesFor(issue, input, knownKeys));
  throw new ConfigurationError(`Invalid ${owner} options: ${lines.join("; ")}`);
}

/** Messages for zod's own checks; a message written in the schema wins over these. */
function problem(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      const noun = nounFor(issue.expected);
      return issue.input === undefined && issue.path?.length ? `required (${noun})` : `expected ${noun}`;
    }
    case "invalid_union": {
      // `string | string[]` given a number: name both accepted shapes.
      const expected = issue.errors.map((branch) => (branch.length === 1 && branch[0]?.code === "invalid_type" ? branch[0].expected : undefined));
      if (expected.some((type) => type === undefined)) return undefined;
      return `expected ${expected.map((type) => nounFor(type!)).join(" or ")}`;
    }
    case "too_small":
      if (issue.origin === "string" || issue.origin === "array") {
        return Number(issue.minimum) === 1 ? "must not be empty" : `must have at least ${issue.minimum} ${issue.origin === "string" ? "characters" : "items"}`;
      }
      return `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string" || issue.origin === "array") {
        return `must have at most ${issue.maximum} ${issue.origin === "string" ? "characters" : "items"}`;
      }
      return `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_format":
      if (issue.format === "url") return "must be an absolute URL";
      if (issue.format === "regex" && "pattern" in issue) return `must match ${String(issue.pattern)}`;
      return `must be a valid ${issue.format}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    default:
      return undefined;
  }
}

function nounFor(type: string): string {
  const nouns: Record<string, string> = {
    number: "a finite number",
    int: "a whole number",
    string: "a string",
    boolean: "true or false",
    object: "an object",
    array: "an array",
    function: "a function",
  };
  return nouns[type] ?? `a ${type}`;
}

/** One line per problem, `path: problem, got value`; one line per unknown key. */
function linesFor(issue: z.core.$ZodIssue, input: unknown, knownKeys: Map<unknown, string[]>): string[] {
  const value = valueAt(input, issue.path);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys.get(value) ?? [];
    return issue.keys.map((key) => {
      const likely = didYouMean(key, known);
      return `${pathText([...issue.path, key])}: unknown option${likely ? ` (did you mean "${likely}"?)` : ""}`;
    });
  }
  const at = issue.path.length > 0 ? `${pathText(issue.path)}: ` : "";
  // Refinements and custom checks write whole sentences; secrets are never echoed.
  const showValue = value !== undefined && issue.code !== "custom" && !issue.path.some((key) => SECRET.test(String(key)));
  return [`${at}${issue.message}${showValue ? `, got ${show(value)}` : ""}`];
}

const SECRET = /apikey|secret|token|password/i;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** `receiver.port`, `retryDelaysMs[2]`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : `${index > 0 ? "." : ""}${String(key)}`)).join("");
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}
