import { ConfigurationError } from "./errors/index.js";
import type { FileShares } from "./receiver/file-shares.js";

/** Where a job's audio comes from: a URL as given, or a local file lent by the receiver. */
export interface AudioSource {
  /** The URL the provider downloads, for the job with local ref `ref`. */
  url(ref: string): Promise<string>;
  /** The provider did not take the job: stop offering its audio. */
  release(ref: string): void;
}

/** Audio the provider downloads from a URL the caller gave; a URL it cannot download throws a `ConfigurationError` at once. */
export function remoteAudio(audioUrl: string): AudioSource {
  assertAudioUrl(audioUrl);
  return { url: async () => audioUrl, release: () => undefined };
}

/**
 * A local file the receiver lends to the provider under a one-time, unguessable URL below the
 * receiver's public URL, until the job is done. `receiver` gives both once the client started.
 */
export function lentFileAudio(path: string, receiver: () => Promise<{ files: FileShares; publicBaseUrl: string }>): AudioSource {
  let shares: FileShares | undefined;
  return {
    url: async (ref) => {
      const { files, publicBaseUrl } = await receiver();
      shares = files;
      return `${publicBaseUrl.replace(/\/+$/, "")}${await files.share(path, ref)}`;
    },
    release: (ref) => shares?.revoke(ref),
  };
}

function assertAudioUrl(audioUrl: string): void {
  let url: URL;
  try {
    url = new URL(audioUrl);
  } catch {
    throw new ConfigurationError(`audioUrl must be an absolute http(s) URL the provider can download; got ${JSON.stringify(audioUrl)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigurationError(`audioUrl must use http or https so the provider can download it; got ${url.protocol}`);
  }
}
