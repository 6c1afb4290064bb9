import type { z } from "zod";

/** What a provider's options schema must hold for `regionalBaseUrl`: a region shortcut and a base URL, both optional. */
type RegionalOptions = { region?: string | undefined; baseUrl?: string | undefined };

/**
 * A provider's `region` and `baseUrl` options, resolved to the one `baseUrl` its API is called at:
 * the given `baseUrl`, else the region's host, else `defaultBaseUrl`. A region only names a host, so
 * giving both is an error (on `baseUrl`), whatever the provider.
 */
export function regionalBaseUrl<S extends z.ZodType<RegionalOptions>>(
  schema: S,
  hostOf: (region: NonNullable<z.output<S>["region"]>) => string,
  defaultBaseUrl: string,
) {
  return schema
    .refine((options) => options.region === undefined || options.baseUrl === undefined, {
      path: ["baseUrl"],
      message: "give region or baseUrl, not both: the region already names its base URL",
    })
    .transform(({ region, ...options }: z.output<S>) => ({
      ...options,
      baseUrl: options.baseUrl ?? (region === undefined ? defaultBaseUrl : hostOf(region)),
    }));
}
