// Starting and stopping a test server on 127.0.0.1, for the HTTP and HTTPS stand-ins alike.

import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Server } from 'node:net';

/** Listens on a free port on 127.0.0.1 and returns the address it got. */
export async function listenOnLoopback(server: Server): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server.address() as AddressInfo;
}

/** Closes the server and drops open connections, so a hanging answer cannot hold the test up. */
export async function closeServer(server: Server & { closeAllConnections(): void }): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** The whole request body as UTF-8 text. */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
