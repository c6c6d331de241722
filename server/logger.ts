/** Structured logs: one JSON object per line, so an operator's log pipeline can query them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void, now: () => Date = () => new Date()): Logger {
  return {
    log(level, message, fields = {}) {
      write(JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields }));
    },
  };
}

/** For tests that assert on logs: records instead of writing. */
export function memoryLogger(): Logger & { entries: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> } {
  const entries: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  return {
    entries,
    log(level, message, fields = {}) {
      entries.push({ level, message, fields });
    },
  };
}

export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.message, errorName: error.name, ...(code === undefined ? {} : { errorCode: code }), stack: error.stack };
  }
  return { error: String(error) };
}
