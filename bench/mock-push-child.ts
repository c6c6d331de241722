import { startMockPushService } from '../server/testing/mock-push-service.ts';

/**
 * The benchmark's push service, in its own process (forked by bench/fanout.ts over IPC) so that
 * answering the pushes does not take CPU from the sender's event loop: a real push service is
 * another machine. `verify: false`: counts and answers 201, no crypto.
 */

export type ChildRequest =
  | { type: 'wait'; id: number; n: number; timeoutMs: number }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export type ChildReply =
  | { type: 'ready'; origin: string; host: string; ca: string; caPath: string }
  | { type: 'waited'; id: number; ok: boolean; error?: string }
  | { type: 'stats'; id: number; accepted: number; requests: number; rejected: number; connections: number; maxRssBytes: number; cpuMicros: number };

if (!process.send) throw new Error('bench/mock-push-child.ts is forked by bench/fanout.ts, not run directly');
const send = (reply: ChildReply) => process.send!(reply);

const mock = await startMockPushService({ verify: false });

process.on('message', (message: ChildRequest) => {
  switch (message.type) {
    case 'wait':
      mock.waitForReceived(message.n, message.timeoutMs).then(
        () => send({ type: 'waited', id: message.id, ok: true }),
        (error: unknown) => send({ type: 'waited', id: message.id, ok: false, error: String(error) }),
      );
      break;
    case 'stats':
      send({
        type: 'stats',
        id: message.id,
        accepted: mock.accepted,
        requests: mock.requests,
        rejected: mock.rejected.length,
        connections: mock.connections,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
      });
      break;
    case 'close':
      void mock.close().then(() => process.exit(0));
      break;
  }
});
// The parent died without saying goodbye: do not linger.
process.on('disconnect', () => void mock.close().then(() => process.exit(0)));

send({ type: 'ready', origin: mock.origin, host: mock.host, ca: mock.ca, caPath: mock.caPath });
