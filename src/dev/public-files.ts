import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { contentTypeOf } from "../shared/content-types.js";
import { HttpError } from "./http-io.js";

/** URL path under which `publicDir` is served. */
const PUBLIC_FILES_PREFIX = "/files/";

/**
 * The file a URL-encoded name (the part after `/files/`) designates inside `dir`, or `undefined`
 * when it would leave `dir`: `new URL` already folds literal `..` segments, but `%2e%2e%2f` only
 * becomes `../` once decoded here.
 */
function resolvePublicFile(dir: string, encodedName: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    return undefined;
  }
  if (name.includes("\0")) return undefined;
  const file = path.resolve(dir, name);
  const relative = path.relative(dir, file);
  const inside = relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
  return inside ? file : undefined;
}

/** The file in `dir` behind `url` when `url` is one of this emulator's `/files/` URLs. */
export function publicFileForUrl(dir: string, baseUrl: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.origin !== new URL(baseUrl).origin || !parsed.pathname.startsWith(PUBLIC_FILES_PREFIX)) return undefined;
  return resolvePublicFile(dir, parsed.pathname.slice(PUBLIC_FILES_PREFIX.length));
}

export async function servePublicFile(res: ServerResponse, dir: string, encodedName: string): Promise<void> {
  const file = resolvePublicFile(dir, encodedName);
  if (!file) throw new HttpError(403, "Refusing a path outside publicDir");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new HttpError(404, `No file ${path.relative(dir, file)} in publicDir`);
  res.writeHead(200, {
    "content-type": contentTypeOf(file),
    "content-length": String(info.size),
  });
  await pipeline(createReadStream(file), res);
}
