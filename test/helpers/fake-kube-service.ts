// A Service of the fake cluster: a stable local port whose connections go to a ready pod of one workload (round
// robin), so a verification URL reaches the real app wherever the rollout stands. No ready pod: the connection is
// refused, as with an empty Endpoints list.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Pod } from './fake-kube-pods.js';

export class Service {
  #server: Server | undefined;
  #next = 0;
  #sockets = new Set<Socket>();
  port = 0;

  constructor(readonly endpoints: () => Pod[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.#server = createServer((client) => {
      const pods = this.endpoints();
      const pod = pods[this.#next++ % Math.max(1, pods.length)];
      if (!pod) {
        client.destroy();
        return;
      }
      const upstream = connect(pod.port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const address = this.#server?.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}
