import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { genericProvider, signHmacHex, signStandardWebhook, verifyHmacHex, verifyStandardWebhook } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, fastProvider, harness, until } from "./helpers.js";

/**
 * Webhook verification of the reference protocol: the `X-Webhook-Signature` HMAC hex header and Standard
 * Webhooks, unit-level on the exported functions and end to end through the receiver.
 */

const BODY = JSON.stringify({ job_id: "job_1", status: "completed", text: "a b c", words: [{ text: "a", start: 0, end: 0.1, confidence: 1 }] });
const raw = (text: string) => Buffer.from(text, "utf8");
const newWhsec = () => `whsec_${randomBytes(24).toString("base64")}`;

/** Every failure reason must be safe to log: no secret, not even the key part of a `whsec_` one. */
function expectNoSecret(reason: string, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(reason).not.toContain(secret);
    if (secret.startsWith("whsec_")) expect(reason).not.toContain(secret.slice("whsec_".length));
  }
}

function reasonOf(verification: { ok: boolean; reason?: string }): string {
  expect(verification.ok).toBe(false);
  return (verification as { reason: string }).reason;
}

describe("HMAC hex (X-Webhook-Signature)", () => {
  const secret = newWhsec();

  it("signs hex(HMAC-SHA256(secret, rawBody)) and accepts it", () => {
    const signature = signHmacHex(secret, BODY);
    expect(signature).toBe(createHmac("sha256", secret).update(BODY).digest("hex"));
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyHmacHex(secret, raw(BODY), signature)).toEqual({ ok: true });
    // Tolerates the common `sha256=` prefix, upper case and surrounding spaces.
    expect(verifyHmacHex(secret, raw(BODY), ` sha256=${signature.toUpperCase()} `)).toEqual({ ok: true });
  });

  it("rejects a tampered body and a signature made with another secret", () => {
    const signature = signHmacHex(secret, BODY);
    const tampered = BODY.replace('"a b c"', '"a b d"');
    expect(tampered).not.toBe(BODY);
    expectNoSecret(reasonOf(verifyHmacHex(secret, raw(tampered), signature)), secret);
    expectNoSecret(reasonOf(verifyHmacHex(secret, raw(BODY), signHmacHex(newWhsec(), BODY))), secret);
    // A truncated signature is not a prefix match.
    reasonOf(verifyHmacHex(secret, raw(BODY), signature.slice(0, 32)));
  });

  it("rejects a body re-serialised on the way, and says that is the likely cause", () => {
    const sent = JSON.stringify(JSON.parse(BODY), null, 2);
    const signature = signHmacHex(secret, sent);
    expect(verifyHmacHex(secret, raw(sent), signature)).toEqual({ ok: true });
    const reserialised = JSON.stringify(JSON.parse(sent));
    expect(JSON.parse(reserialised)).toEqual(JSON.parse(sent));
    const reason = reasonOf(verifyHmacHex(secret, raw(reserialised), signature));
    expect(reason).toMatch(/re-serialised/);
    expectNoSecret(reason, secret);
  });

  it("rejects a missing signature with its own reason", () => {
    expect(reasonOf(verifyHmacHex(secret, raw(BODY), undefined))).toMatch(/missing signature/);
    reasonOf(verifyHmacHex(secret, raw(BODY), ""));
  });

  it("accepts any secret of a rotation list, and no other", () => {
    const [old, current] = [newWhsec(), newWhsec()];
    expect(verifyHmacHex([old, current], raw(BODY), signHmacHex(old, BODY))).toEqual({ ok: true });
    expect(verifyHmacHex([old, current], raw(BODY), signHmacHex(current, BODY))).toEqual({ ok: true });
    expectNoSecret(reasonOf(verifyHmacHex([old, current], raw(BODY), signHmacHex(newWhsec(), BODY))), old, current);
  });
});

describe("Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  const minutes = (n: number) => new Date(now.getTime() + n * 60_000);

  it("matches the Standard Webhooks reference test vector", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = '{"test": 2432232314}';
    const headers = signStandardWebhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", body, new Date(1614265330 * 1000));
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
    expect(verifyStandardWebhook(secret, raw(body), headers, { now: new Date(1614265330 * 1000 + 1000) })).toEqual({ ok: true });
  });

  it("accepts a whsec_ secret: the key is the base64 after the prefix", () => {
    const key = randomBytes(32);
    const secret = `whsec_${key.toString("base64")}`;
    const headers = signStandardWebhook(secret, "msg_1", BODY, now);
    const expected = createHmac("sha256", key).update(`msg_1.${headers["webhook-timestamp"]}.${BODY}`).digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
    expect(verifyStandardWebhook(secret, raw(BODY), headers, { now })).toEqual({ ok: true });
  });

  it("accepts a plain secret: the key is its UTF-8 bytes", () => {
    const secret = "a plain shared sécret";
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`msg_2.${timestamp}.${BODY}`).digest("base64");
    const headers = { "webhook-id": "msg_2", "webhook-timestamp": timestamp, "webhook-signature": `v1,${expected}` };
    expect(verifyStandardWebhook(secret, raw(BODY), headers, { now })).toEqual({ ok: true });
    expect(signStandardWebhook(secret, "msg_2", BODY, now)).toEqual(headers);
  });

  it("rejects a tampered body, another id or another timestamp", () => {
    const secret = newWhsec();
    const headers = signStandardWebhook(secret, "msg_3", BODY, now);
    expectNoSecret(reasonOf(verifyStandardWebhook(secret, raw(`${BODY} `), headers, { now })), secret);
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-id": "msg_4" }, { now }));
    const later = String(Number(headers["webhook-timestamp"]) + 1);
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-timestamp": later }, { now }));
  });

  it("rejects a timestamp 6 minutes old (or ahead) by default and accepts it when the tolerance is raised", () => {
    const secret = newWhsec();
    const old = signStandardWebhook(secret, "msg_old", BODY, minutes(-6));
    const reason = reasonOf(verifyStandardWebhook(secret, raw(BODY), old, { now }));
    expect(reason).toMatch(/360 s/);
    expect(reason).toMatch(/tolerance 300 s/);
    expectNoSecret(reason, secret);
    reasonOf(verifyStandardWebhook(secret, raw(BODY), signStandardWebhook(secret, "msg_future", BODY, minutes(6)), { now }));
    expect(verifyStandardWebhook(secret, raw(BODY), old, { now, toleranceSec: 600 })).toEqual({ ok: true });
    // 4 minutes is inside the default tolerance.
    expect(verifyStandardWebhook(secret, raw(BODY), signStandardWebhook(secret, "msg_ok", BODY, minutes(-4)), { now })).toEqual({ ok: true });
  });

  it("honours genericProvider's toleranceSec", () => {
    const secret = newWhsec();
    const base = { baseUrl: "http://127.0.0.1:9", apiKey: "k", webhookSecret: secret };
    const sixMinutesAgo = signStandardWebhook(secret, "msg_tol", BODY, new Date(Date.now() - 6 * 60_000));
    const request = { headers: sixMinutesAgo, query: new URLSearchParams(), contentType: "application/json", rawBody: raw(BODY) };
    const context = { isJobSecret: () => false };
    expect(genericProvider(base).authenticate(request, context).ok).toBe(false);
    expect(genericProvider({ ...base, toleranceSec: 600 }).authenticate(request, context)).toEqual({ ok: true });
  });

  it("accepts one valid signature among several, space-separated", () => {
    const secret = newWhsec();
    const headers = signStandardWebhook(secret, "msg_5", BODY, now);
    const valid = headers["webhook-signature"];
    const bogus = `v1,${randomBytes(32).toString("base64")}`;
    expect(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": `${bogus} ${valid}` }, { now })).toEqual({ ok: true });
    expect(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": `v1a,xyz ${valid} ${bogus}` }, { now })).toEqual({ ok: true });
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": `${bogus} ${bogus}` }, { now }));
  });

  it("requires the v1, prefix", () => {
    const secret = newWhsec();
    const headers = signStandardWebhook(secret, "msg_6", BODY, now);
    const base64 = headers["webhook-signature"].slice("v1,".length);
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": base64 }, { now }));
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": `v2,${base64}` }, { now }));
    reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-signature": `v1a,${base64}` }, { now }));
  });

  it("rejects missing headers and a timestamp that is not unix seconds", () => {
    const secret = newWhsec();
    const headers = signStandardWebhook(secret, "msg_7", BODY, now);
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [name]: _, ...rest } = headers;
      expect(reasonOf(verifyStandardWebhook(secret, raw(BODY), rest, { now }))).toMatch(/missing/);
    }
    expect(reasonOf(verifyStandardWebhook(secret, raw(BODY), { ...headers, "webhook-timestamp": now.toISOString() }, { now }))).toMatch(/unix seconds/);
  });

  it("accepts any secret of a rotation list", () => {
    const [old, current] = [newWhsec(), "plain-new-secret"];
    for (const secret of [old, current]) {
      expect(verifyStandardWebhook([old, current], raw(BODY), signStandardWebhook(secret, "msg_8", BODY, now), { now })).toEqual({ ok: true });
    }
    expectNoSecret(reasonOf(verifyStandardWebhook([old, current], raw(BODY), signStandardWebhook(newWhsec(), "msg_8", BODY, now), { now })), old, current);
  });

  it("never puts a secret in a reason, whatever fails", () => {
    const secrets = [newWhsec(), "plain secret with spaces "];
    const good = signStandardWebhook(secrets[0]!, "msg_9", BODY, now);
    const reasons = [
      reasonOf(verifyStandardWebhook(secrets, raw(BODY), signStandardWebhook(newWhsec(), "msg_9", BODY, now), { now })),
      reasonOf(verifyStandardWebhook(secrets, raw(BODY), signStandardWebhook(secrets[0]!, "msg_9", BODY, minutes(-60)), { now })),
      reasonOf(verifyStandardWebhook(secrets, raw(BODY), { "webhook-id": "msg_9" }, { now })),
      reasonOf(verifyStandardWebhook(secrets, raw(`${BODY}x`), good, { now })),
      reasonOf(verifyHmacHex(secrets, raw(BODY), "00")),
      reasonOf(verifyHmacHex(secrets, raw(BODY), undefined)),
    ];
    for (const reason of reasons) {
      expect(reason.length).toBeGreaterThan(10);
      expectNoSecret(reason, ...secrets);
      // Nor the signature we expected, which would let a forger copy it.
      expect(reason).not.toContain(good["webhook-signature"].slice(3));
      expect(reason).not.toContain(signHmacHex(secrets[0]!, BODY));
    }
  });
});

describe("verification end to end through the receiver", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  /** A job the emulator accepted but will not report on: the test sends its webhooks. */
  async function pending(client: Harness["client"]) {
    await client.start();
    const job = client.transcribe("https://audio.example/verify.wav");
    job.catch(() => undefined);
    const jobId = await job.submitted;
    await until(() => job.status === "queued");
    return { job, jobId, url: h.dev.job(jobId)!.webhookUrl! };
  }

  const completedBody = (jobId: string) =>
    JSON.stringify({ job_id: jobId, status: "completed", text: "rotated fine", words: [{ text: "rotated", start: 0, end: 0.4, confidence: 0.8 }], language: "en", duration: 1 });

  async function post(url: string, body: string, headers: Record<string, string>) {
    const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
    return { status: response.status, body: await response.text() };
  }

  it("accepts webhooks signed with either secret of a rotation, HMAC or Standard Webhooks, and refuses a third", async () => {
    h = await harness({ dev: { processingDelayMs: 60_000, sendProcessingWebhook: false } });
    const old = newWhsec();
    const client = h.restart({ provider: fastProvider(h.dev, { webhookSecret: [old, h.dev.webhookSecret] }) });
    const statuses: string[] = [];
    const { job, jobId, url } = await pending(client);
    job.then(undefined, () => undefined);
    // Capture status changes from here on through a second handle on the same job.
    const watcher = client.job(jobId, { onStatus: (s) => statuses.push(s) });

    const forged = newWhsec();
    const processing = JSON.stringify({ job_id: jobId, status: "processing" });
    const refused = await post(url, processing, { "x-webhook-signature": signHmacHex(forged, processing) });
    expect(refused.status).toBe(401);
    expectNoSecret(refused.body, old, forged, h.dev.webhookSecret);
    expect((await post(url, processing, signStandardWebhook(forged, "msg_f", processing))).status).toBe(401);

    expect((await post(url, processing, { "x-webhook-signature": signHmacHex(old, processing) })).status).toBe(200);
    expect((await post(url, processing, signStandardWebhook(old, "msg_p", processing))).status).toBe(200);
    await until(() => watcher.status === "processing");

    const body = completedBody(jobId);
    expect((await post(url, body, signStandardWebhook(h.dev.webhookSecret, "msg_c", body))).status).toBe(200);
    expect((await job).text).toBe("rotated fine");
    await expect(watcher).resolves.toMatchObject({ jobId, text: "rotated fine" });
    expect(statuses).toEqual(["processing", "completed"]);

    const logs = JSON.stringify(h.logs);
    for (const secret of [old, forged, h.dev.webhookSecret]) expectNoSecret(logs, secret);
  });

  it("applies genericProvider's toleranceSec to deliveries: 6 minutes late is 401 by default, 200 with toleranceSec 600", async () => {
    h = await harness({ dev: { processingDelayMs: 60_000, sendProcessingWebhook: false } });
    const strict = await pending(h.client);
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000);
    const body = completedBody(strict.jobId);
    const late = await post(strict.url, body, signStandardWebhook(h.dev.webhookSecret, "msg_late", body, sixMinutesAgo));
    expect(late.status).toBe(401);
    expect(JSON.parse(late.body).error).toMatch(/tolerance 300 s/);
    expect(strict.job.status).toBe("queued");
    await h.client.close();

    const lenient = h.restart({ provider: fastProvider(h.dev, { toleranceSec: 600 }) });
    const tolerant = await pending(lenient);
    const tolerantBody = completedBody(tolerant.jobId);
    const accepted = await post(tolerant.url, tolerantBody, signStandardWebhook(h.dev.webhookSecret, "msg_late2", tolerantBody, sixMinutesAgo));
    expect(accepted.status).toBe(200);
    expect((await tolerant.job).text).toBe("rotated fine");
    // The first job was never touched by its refused delivery.
    await lenient.close();
    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    const byJobId = Object.fromEntries(Object.values(doc.jobs as Record<string, { jobId: string; status: string }>).map((j) => [j.jobId, j.status]));
    expect(byJobId).toEqual({ [strict.jobId]: "queued", [tolerant.jobId]: "completed" });
  });

  it("refuses a re-serialised body end to end with a reason that says so", async () => {
    h = await harness({ dev: { processingDelayMs: 60_000, sendProcessingWebhook: false } });
    const { job, url, jobId } = await pending(h.client);
    const sent = JSON.stringify(JSON.parse(completedBody(jobId)), null, 2);
    const signature = signHmacHex(h.dev.webhookSecret, sent);
    const answer = await post(url, JSON.stringify(JSON.parse(sent)), { "x-webhook-signature": signature });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error).toMatch(/re-serialised/);
    expect(job.status).toBe("queued");
    // The original bytes with the same signature pass.
    expect((await post(url, sent, { "x-webhook-signature": signature })).status).toBe(200);
    expect((await job).text).toBe("rotated fine");
  });
});
