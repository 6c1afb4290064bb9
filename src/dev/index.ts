/**
 * `hookscribe/dev`: a local emulator of the reference protocol (what `genericProvider` speaks),
 * for tests, benchmarks and demos. Kept out of the main entry so applications do not load it.
 */
export { startDevProvider, sidecarEngine, fixedTextEngine } from "./dev-provider.js";
export type {
  DevProvider,
  DevProviderOptions,
  DevProviderFaults,
  DevProviderStats,
  DevJob,
  DevJobStatus,
  DevDelivery,
  DevDeadLetter,
  TranscriptEngine,
  EngineContext,
  EngineResult,
} from "./dev-provider.js";
