/**
 * The one line, against a real provider that speaks the reference protocol, or the local
 * emulator when HOOKSCRIBE_BASE_URL is not set:
 *
 *   HOOKSCRIBE_BASE_URL=https://stt.example.com HOOKSCRIBE_API_KEY=… HOOKSCRIBE_WEBHOOK_SECRET=… \
 *   HOOKSCRIBE_PUBLIC_URL=https://my-tunnel.example.net npx tsx examples/transcribe.ts https://example.com/call.mp3
 */
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = process.env.HOOKSCRIBE_BASE_URL ? undefined : await startDevProvider({ engine: fixedTextEngine("hello from the emulator"), processingDelayMs: 200 });

const client = new Transcriber({
  provider: genericProvider({
    baseUrl: dev?.url ?? process.env.HOOKSCRIBE_BASE_URL!,
    apiKey: dev?.apiKey ?? process.env.HOOKSCRIBE_API_KEY!,
    webhookSecret: dev?.webhookSecret ?? process.env.HOOKSCRIBE_WEBHOOK_SECRET!,
  }),
  // A remote provider needs a public URL that forwards to this receiver (reverse proxy or tunnel).
  receiver: { port: Number(process.env.PORT ?? 0), publicUrl: process.env.HOOKSCRIBE_PUBLIC_URL },
  storePath: ".hookscribe/example-store.json",
  timeoutMs: 10 * 60_000,
});

try {
  const transcript = await client.transcribe(process.argv[2] ?? "https://example.com/call.mp3", { language: "en" });
  console.log(transcript.jobId, transcript.text);
} finally {
  await client.close();
  await dev?.close();
}
