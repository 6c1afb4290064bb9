import type { z } from "zod";

/**
 * The check of a provider's `params` that refuses the fields hookscribe sets itself, for a
 * `superRefine`. `reserved` maps each field (a dotted path for one inside an object) to where
 * hookscribe takes its value from; a field that is present, even as `undefined`, is refused as
 * `params.<field>: set by hookscribe (<where from>)`, in the order the params give them.
 */
export function refuseReservedParams(reserved: Readonly<Record<string, string>>) {
  const sources = new Map(Object.entries(reserved));
  const holdsReserved = (path: string): boolean => [...sources.keys()].some((field) => field.startsWith(`${path}.`));
  const refuseIn = (params: object, path: string[], context: z.RefinementCtx): void => {
    for (const [key, value] of Object.entries(params)) {
      const at = [...path, key];
      const source = sources.get(at.join("."));
      if (source !== undefined) context.addIssue({ code: "custom", path: at, message: `set by hookscribe (${source})` });
      else if (typeof value === "object" && value !== null && holdsReserved(at.join("."))) refuseIn(value, at, context);
    }
  };
  return (params: object, context: z.RefinementCtx): void => refuseIn(params, [], context);
}
