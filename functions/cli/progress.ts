/**
 * A progress bar on stderr for work that takes many calls (a redrive, a listing of many pages),
 * drawn only when stderr is a terminal: piped or redirected output (scripts, CI, `--json | jq`)
 * gets no escape codes and no partial lines. cli-progress draws it (redraw throttling, terminal
 * width, clearing on stop).
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `total` may grow as more is discovered (a listing's pages). */
  update(done: number, total?: number): void;
  stop(): void;
}

const inert: Progress = { update: () => {}, stop: () => {} };

export function progressBar(options: {
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly label: string;
  readonly total: number;
  readonly unit: string;
  readonly enabled: boolean;
}): Progress {
  if (!options.enabled || !options.stream.isTTY) return inert;
  const bar = new SingleBar({
    stream: options.stream,
    format: `${options.label} [{bar}] {value}/{total} ${options.unit}`,
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  bar.start(Math.max(options.total, 1), 0);
  return {
    update(done, total) {
      if (total !== undefined) bar.setTotal(Math.max(total, done, 1));
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}
