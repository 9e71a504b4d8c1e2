// Progress on long runs from the first second: on a terminal one line rewritten every second, in a
// log (not a TTY) one line at the first second and then every `logEveryMs`.
export interface Progress {
  stop(): void;
}

export function startProgress(render: () => string, opts: { stream?: NodeJS.WriteStream; logEveryMs?: number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const logEvery = opts.logEveryMs ?? 10_000;
  let last = -Infinity;
  const tick = () => {
    const now = Date.now();
    if (tty) stream.write(`\r\x1b[2K${render()}`);
    else if (now - last >= logEvery) {
      last = now;
      stream.write(`${render()}\n`);
    }
  };
  const timer = setInterval(tick, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty) stream.write('\r\x1b[2K');
    },
  };
}

/** A log line that does not land in the middle of a progress line being rewritten on a terminal. */
export function writeLine(stream: NodeJS.WriteStream, text: string): void {
  stream.write(`${stream.isTTY ? '\r\x1b[2K' : ''}${text}\n`);
}
