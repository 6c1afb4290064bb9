import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, JSONRPCMessage, Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type DevProvider, fixedTextEngine, startDevProvider } from "../src/dev/dev-provider.js";
import type { TranscriptionJob } from "../src/job.js";
import { createMcpServer } from "../src/mcp/index.js";
import { type Harness, SAMPLE_TEXT, harness, tempDir, until } from "./helpers.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The first content block's text of a tool result. */
function textOf(result: unknown): string {
  const [first] = (result as CallToolResult).content;
  return first?.type === "text" ? first.text : "";
}

describe("hookscribe MCP server over real stdio (SDK client, spawned server, emulator)", () => {
  let dev: DevProvider;
  let dir: string;
  let storePath: string;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = "";
  const transportErrors: Error[] = [];
  /** Every message from the server in the order it arrived, before the SDK client dispatches it. */
  const received: JSONRPCMessage[] = [];

  beforeAll(async () => {
    dev = await startDevProvider({
      processingDelayMs: 400,
      retryDelaysMs: [20, 40, 80],
      engine: fixedTextEngine(SAMPLE_TEXT),
      faults: { errorResult: (audioUrl) => audioUrl.includes("broken") },
    });
    dir = await tempDir();
    storePath = join(dir, "store.json");
    transport = new StdioClientTransport({
      // One process (tsx as a loader, not its CLI, which would run the script in a grandchild).
      command: process.execPath,
      args: ["--import", "tsx", "test/fixtures/mcp-server.ts"],
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", DEV_URL: dev.url, DEV_API_KEY: dev.apiKey, DEV_SECRET: dev.webhookSecret, STORE_PATH: storePath, MCP_HEARTBEAT_MS: "100" },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    client = new Client({ name: "hookscribe-test", version: "0.0.0" });
    // Anything on the server's stdout that is not a protocol message lands here.
    client.onerror = (error) => transportErrors.push(error);
    await client.connect(transport);
    const dispatch = transport.onmessage!;
    transport.onmessage = (message: JSONRPCMessage) => {
      received.push(message);
      dispatch(message);
    };
  });

  afterAll(async () => {
    await client?.close();
    await dev?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists both tools with their input schemas", async () => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(Object.keys(byName).sort()).toEqual(["get_transcript", "transcribe_audio"]);

    const transcribe = byName.transcribe_audio!;
    expect(transcribe.description).toMatch(/get_transcript/);
    expect(transcribe.inputSchema.required).toEqual(["audioUrl"]);
    expect(transcribe.inputSchema.properties).toMatchObject({
      audioUrl: { type: "string", format: "uri" },
      language: { type: "string" },
    });
    expect(transcribe.outputSchema?.properties).toHaveProperty("jobId");

    const get = byName.get_transcript!;
    expect(get.inputSchema.required).toEqual(["jobId"]);
    expect(get.inputSchema.properties).toMatchObject({ jobId: { type: "string" } });
    expect(get.annotations?.readOnlyHint).toBe(true);
  });

  let jobId: string;

  it("transcribe_audio waits for the webhook and returns the emulator's text", async () => {
    const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/call.wav", language: "en" } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toHaveLength(1);
    expect(textOf(result)).toBe(SAMPLE_TEXT);
    expect(result.structuredContent).toMatchObject({ text: SAMPLE_TEXT, jobId: expect.any(String) });
    jobId = (result.structuredContent as { jobId: string }).jobId;
    expect(dev.job(jobId)?.status).toBe("completed");
  });

  it("sends progress notifications (status changes and heartbeats) when the caller asks for them, all before the answer", async () => {
    const since = received.length;
    const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/progress.wav" } }, undefined, {
      onprogress: () => undefined,
    });
    expect(textOf(result)).toBe(SAMPLE_TEXT);
    // Read from the wire rather than through onprogress: the SDK client hands a notification to
    // its handler a microtask late but settles a response at once, so a notification that
    // arrives in the same chunk as the answer never reaches onprogress, though it came first.
    const call = received.slice(since);
    const answerAt = call.findIndex((message) => "result" in message);
    expect(answerAt).toBeGreaterThan(0);
    const progress = call
      .slice(0, answerAt)
      .filter((message) => "method" in message && message.method === "notifications/progress")
      .map((message) => (message as unknown as { params: Progress }).params);
    expect(call.slice(answerAt + 1).filter((message) => "method" in message && message.method === "notifications/progress")).toEqual([]);
    const messages = progress.map((p) => p.message ?? "");
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(messages.some((m) => m.startsWith("submitted as job "))).toBe(true);
    expect(messages.some((m) => m.startsWith("processing"))).toBe(true);
    expect(messages.some((m) => /^completed, after \d+ s$/.test(m))).toBe(true);
    // Processing takes 400 ms and the fixture beats every 100 ms. A status change is reported
    // once, so a status that shows up twice came from a heartbeat.
    const waiting = messages.filter((m) => /^[\w ]+, \d+ s elapsed$/.test(m)).map((m) => m.split(",")[0]);
    expect(waiting.length).toBeGreaterThan(new Set(waiting).size);
    // The protocol wants a strictly increasing progress value.
    const values = progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
  });

  it("get_transcript answers from the store, and isError for an unknown id", async () => {
    const found = await client.callTool({ name: "get_transcript", arguments: { jobId } });
    expect(found.isError).toBeFalsy();
    expect(textOf(found)).toBe(SAMPLE_TEXT);
    expect(found.structuredContent).toEqual({ jobId, status: "completed", text: SAMPLE_TEXT });

    const unknown = await client.callTool({ name: "get_transcript", arguments: { jobId: "job_does_not_exist" } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/^No job "job_does_not_exist" in this server's store: pass a jobId that transcribe_audio returned/);
  });

  it("a provider failure is an isError result that says what happened and what to do", async () => {
    const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/broken.wav" } });
    expect(result.isError).toBe(true);
    const message = textOf(result);
    expect(message).toMatch(/^Provider reported job \S+ as failed: Simulated failure/);
    expect(message).toMatch(/call transcribe_audio again\.$/);
    expect(message).not.toContain("\n");

    // get_transcript reports the failed job as a status, not as a tool error.
    const failedJobId = /job (\S+) as failed/.exec(message)![1]!;
    const status = await client.callTool({ name: "get_transcript", arguments: { jobId: failedJobId } });
    expect(status.isError).toBeFalsy();
    expect(status.structuredContent).toMatchObject({ jobId: failedJobId, status: "error", error: expect.stringMatching(/Simulated failure/) });
  });

  it("a bad audio URL is an isError result naming the argument", async () => {
    for (const audioUrl of ["not a url", "ftp://audio.example/call.wav"]) {
      const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain("audioUrl must be an absolute http(s) URL the provider can download");
      expect(textOf(result)).not.toContain("\n");
    }
  });

  it("closing the client (stdin ends) stops the server: exit code 0, store unlocked, only protocol on stdout", async () => {
    const pid = transport.pid!;
    expect(existsSync(`${storePath}.lock`)).toBe(true);
    const started = Date.now();
    await client.close();
    // The SDK's transport sends SIGTERM only after waiting 2 s for the process to end by itself.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    await until(() => stderr.includes("mcp-server exit code"), 1000);
    expect(stderr).toContain("mcp-server exit code 0");
    expect(existsSync(`${storePath}.lock`)).toBe(false);
    // The one error the SDK client makes of a notification that arrived with the answer (see the
    // progress test, which checks on the wire that every notification came before its answer).
    const lateDispatch = /^Received a progress notification for an unknown token/;
    expect(transportErrors.filter((error) => !lateDispatch.test(error.message))).toEqual([]);
  });
});

describe("hookscribe MCP server: deadlines and cancellation (in-memory transport)", () => {
  let h: Harness;
  let mcpClient: Client;
  afterEach(async () => {
    await mcpClient?.close();
    await h?.cleanup();
  });

  async function connect(options: Parameters<typeof createMcpServer>[1]): Promise<Client> {
    // The emulator takes 5 s per job: every call here ends before the job does.
    h = await harness({ dev: { processingDelayMs: 5000 } });
    const server = createMcpServer(h.client, options);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    mcpClient = new Client({ name: "hookscribe-test", version: "0.0.0" });
    await mcpClient.connect(clientSide);
    return mcpClient;
  }

  it("a timeout answers with the job id to pass to get_transcript, which reports the job as pending", async () => {
    const client = await connect({ timeoutMs: 200 });
    const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/long.wav" } });
    expect(result.isError).toBe(true);
    const message = textOf(result);
    const [, jobId] = /Call get_transcript with jobId "([^"]+)"/.exec(message) ?? [];
    expect(jobId).toBeDefined();
    expect(message).toMatch(/^Job \S+ is not finished after 0 s; it keeps running at the provider\./);

    const status = await client.callTool({ name: "get_transcript", arguments: { jobId } });
    expect(status.isError).toBeFalsy();
    expect(status.structuredContent).toEqual({ jobId, status: "processing" });
    expect(textOf(status)).toMatch(/is processing \(submitted \d+ s ago\)\. Call get_transcript again/);
  });

  it("cancelling the call stops the wait; the job stays in the store", async () => {
    const client = await connect({ heartbeatMs: 50 });
    const started = vi.spyOn(h.client, "transcribe");
    const controller = new AbortController();
    const call = client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/cancel.wav" } }, undefined, {
      signal: controller.signal,
      onprogress: (p) => {
        if (p.message?.startsWith("processing")) controller.abort(new Error("user pressed stop"));
      },
    });
    await expect(call).rejects.toThrow(/user pressed stop/);

    // The server-side handle was given the request's signal and rejected when it aborted.
    const job = started.mock.results[0]!.value as TranscriptionJob;
    await expect(job).rejects.toMatchObject({ name: "AbortError" });
    const status = await client.callTool({ name: "get_transcript", arguments: { jobId: job.jobId! } });
    expect(status.structuredContent).toMatchObject({ jobId: job.jobId, status: "processing" });
  });
});
