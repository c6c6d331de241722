/** The mock push service bench:fanout sends to: a child process (default) or in this process. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PushTransport } from '../server/push/fetch-transport.ts';
import { nodePushTransport } from '../server/runtime/node/push-transport.ts';
import { startMockPushService } from '../server/testing/mock-push-service.ts';
import type { ChildReply, ChildRequest } from './mock-push-child.ts';

export interface MockHandle {
  origin: string;
  host: string;
  ca: string;
  /** The CA in a file, for NODE_EXTRA_CA_CERTS of `pushcart worker` processes. */
  caPath: string;
  stats(): Promise<{ accepted: number; requests: number; rejected: number; connections: number; maxRssBytes?: number; cpuMicros?: number }>;
  waitForAccepted(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startMock(where: string): Promise<MockHandle> {
  if (where === 'inproc') {
    const mock = await startMockPushService({ verify: false });
    return {
      origin: mock.origin,
      host: mock.host,
      ca: mock.ca,
      caPath: mock.caPath,
      // In this process its CPU is part of this process's figure.
      stats: async () => ({ accepted: mock.accepted, requests: mock.requests, rejected: mock.rejected.length, connections: mock.connections }),
      waitForAccepted: (n, timeoutMs) => mock.waitForReceived(n, timeoutMs),
      close: () => mock.close(),
    };
  }
  if (where !== 'child') throw new Error('bench:fanout: --mock must be child or inproc');
  const child: ChildProcess = fork(fileURLToPath(new URL('./mock-push-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, (reply: ChildReply) => void>();
  const ready = new Promise<Extract<ChildReply, { type: 'ready' }>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`mock push child exited early (code ${code})`)));
    child.on('message', (reply: ChildReply) => {
      if (reply.type === 'ready') resolve(reply);
      else pending.get(reply.id)?.(reply);
    });
  });
  const { origin, host, ca, caPath } = await ready;
  const ask = (request: ChildRequest & { id: number }) =>
    new Promise<ChildReply>((resolve) => {
      pending.set(request.id, (reply) => {
        pending.delete(request.id);
        resolve(reply);
      });
      child.send(request);
    });
  return {
    origin,
    host,
    ca,
    caPath,
    async stats() {
      const reply = await ask({ type: 'stats', id: nextId++ });
      if (reply.type !== 'stats') throw new Error('mock push child: unexpected reply');
      return reply;
    },
    async waitForAccepted(n, timeoutMs) {
      const reply = await ask({ type: 'wait', id: nextId++, n, timeoutMs });
      if (reply.type !== 'waited' || !reply.ok) throw new Error(reply.type === 'waited' ? reply.error : 'mock push child: unexpected reply');
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'close' } satisfies ChildRequest);
      }),
  };
}

/** The server's transport (node:http2, HTTP/1.1 through undici where a push service has no h2), trusting the mock. */
export function pushTransport(mock: MockHandle, connections: number | undefined): { transport: PushTransport; close(): Promise<void> } {
  return nodePushTransport({ ca: mock.ca, ...(connections ? { connectionsPerOrigin: connections } : {}) });
}
