import type { JobStatus } from "../domain/job-status.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Progress on stderr while a job runs, so stdout carries the transcript alone: a spinner with
 * the elapsed time on a terminal, one plain line per status change otherwise (logs, CI, pipes).
 */
export class Progress {
  private readonly started = Date.now();
  private status: JobStatus = "submitting";
  private jobId: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(): void {
    if (this.stream.isTTY) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    } else {
      this.line();
    }
  }

  update(status: JobStatus, jobId: string | undefined): void {
    this.status = status;
    this.jobId = jobId ?? this.jobId;
    if (!this.stream.isTTY) this.line();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.stream.isTTY) this.stream.write("\r\x1b[K");
  }

  private describe(): string {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    return `${this.status}${this.jobId ? ` ${this.jobId}` : ""} (${seconds} s)`;
  }

  private draw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(`\r\x1b[K${FRAMES[this.frame]} ${this.describe()}`);
  }

  private line(): void {
    this.stream.write(`hookscribe: ${this.describe()}\n`);
  }
}
