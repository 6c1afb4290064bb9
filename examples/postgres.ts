/**
 * The store in PostgreSQL instead of the JSON file, so several replicas of a service behind a
 * load balancer share jobs: the webhook may land on any of them and still resolve the `await` in
 * the one that submitted the job. Needs `pg` (npm install pg) and a server:
 *
 *   DATABASE_URL=postgres://user:password@host:5432/database npx tsx examples/postgres.ts
 *
 * The store creates (or migrates) its schema on start; the example leaves it in place, so
 * `hookscribe jobs --schema hookscribe_example` (with DATABASE_URL set) lists the job afterwards.
 */
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { postgresStore } from "hookscribe/postgres";

const dev = await startDevProvider({ engine: fixedTextEngine("hello from the postgres store"), processingDelayMs: 200 });

// A bounded pool (maxConnections, default 10) plus one connection that listens for the other replicas.
const store = postgresStore({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", schema: "hookscribe_example" });

const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  // Each replica: its own receiver, the same public URL (the load balancer) and the same store.
  receiver: { port: Number(process.env.PORT ?? 0) },
  store,
});

try {
  const transcript = await client.transcribe("https://example.com/call.mp3");
  console.log(transcript.jobId, transcript.text);
  // Any replica on the same store answers for any job. The location never shows a password.
  const stored = await client.inspect(transcript.jobId);
  console.log(`${stored.jobId}: ${stored.status}, in ${store.location}`);
} finally {
  await client.close();
  await dev.close();
}
