import { ConfigurationError } from "./errors/index.js";
import { isLoopback } from "./shared/loopback.js";

/** A provider on another machine cannot call back to a loopback receiver URL: say so before submitting. */
export function assertReachable(providerBaseUrl: string, publicUrl: string): void {
  if (isLoopback(providerBaseUrl) || !isLoopback(publicUrl)) return;
  throw new ConfigurationError(
    `The provider at ${providerBaseUrl} cannot reach the receiver at ${publicUrl}: that address only works on this machine. ` +
      "Expose the receiver through a reverse proxy or a tunnel and set receiver.publicUrl to the public URL that forwards to it",
  );
}
