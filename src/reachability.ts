import { ConfigurationError } from "./errors/index.js";

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0|\[::\])$/i;

function isLoopback(url: string): boolean {
  return LOOPBACK.test(new URL(url).hostname);
}

/** A provider on another machine cannot call back to a loopback receiver URL: say so before submitting. */
export function assertReachable(providerBaseUrl: string, publicUrl: string): void {
  if (isLoopback(providerBaseUrl) || !isLoopback(publicUrl)) return;
  throw new ConfigurationError(
    `The provider at ${providerBaseUrl} cannot reach the receiver at ${publicUrl}: that address only works on this machine. ` +
      "Expose the receiver through a reverse proxy or a tunnel and set receiver.publicUrl to the public URL that forwards to it",
  );
}
