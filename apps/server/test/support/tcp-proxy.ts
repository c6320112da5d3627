import net from 'node:net';

export interface TcpProxy {
  url: string;
  port: number;
  /** Send new connections to another backend port (what a load balancer does once a backend is gone). */
  target(port: number): void;
  /** A network partition: nothing passes either way (bytes wait, as TCP retransmits would), new connections hang. */
  blackhole(): void;
  /** The partition heals: what waited is delivered, in order. */
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/** A plain TCP forwarder on a free port: the "one URL" in front of several servers, or the network between two machines. */
export async function startTcpProxy(initialPort: number): Promise<TcpProxy> {
  let backend = initialPort;
  let cut = false;
  const pairs = new Set<Pair>();

  const flush = (pair: Pair): void => {
    if (cut || !pair.upstream) return;
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
  };
  const connectUpstream = (pair: Pair): void => {
    const upstream = net.connect(backend, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      pair.toClient.push(chunk);
      flush(pair);
    });
    const drop = (): void => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', drop).on('close', drop);
    flush(pair);
  };

  const server = net.createServer((client) => {
    const pair: Pair = { client, upstream: null, toUpstream: [], toClient: [] };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      pair.toUpstream.push(chunk);
      flush(pair);
    });
    const drop = (): void => {
      client.destroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    if (!cut) connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    target: (p) => {
      backend = p;
    },
    blackhole: () => {
      cut = true;
    },
    heal: () => {
      cut = false;
      for (const pair of pairs) {
        if (!pair.upstream) connectUpstream(pair);
        else flush(pair);
      }
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
