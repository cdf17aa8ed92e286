/**
 * A progress line on stderr: rewritten in place on a terminal, else printed at most every few
 * seconds so CI logs stay readable. Never on stdout, which carries results.
 */
export class ProgressLine {
  private lastPrint = 0;
  private shown = false;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly intervalMs = 3000) {}

  update(text: string): void {
    const now = Date.now();
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else if (now - this.lastPrint >= this.intervalMs) {
      if (this.lastPrint > 0) process.stderr.write(`${text}\n`);
      this.lastPrint = now;
    }
  }

  done(text?: string): void {
    if (this.tty && this.shown) process.stderr.write("\r\x1b[K");
    if (text) process.stderr.write(`${text}\n`);
  }
}
