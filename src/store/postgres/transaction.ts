import type { Pool, PoolClient } from "pg";

/**
 * Runs `work` in one transaction on one pooled connection: committed when it resolves, rolled
 * back when it throws (the error is rethrown as it was).
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no error listener of the pool's: without one, a connection that
  // drops between two statements would crash the process. The next statement reports it.
  const ignore = (): void => undefined;
  client.on("error", ignore);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      // A connection that cannot even roll back is not given to anyone else.
      broken = rollbackError as Error;
    });
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(broken);
  }
}
