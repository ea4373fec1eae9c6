// Pub/sub through node-redis against a running server: `node pubsub.mjs PORT RESP` (RESP is 2
// or 3). Prints one JSON object with what each step returned and which messages each subscriber
// received; tests/test_pubsub_node.py starts the server, runs this and checks the JSON. Exits 1
// (still printing what it has) when an expected message does not arrive within 20 s.
import { createClient, BasicClientSideCache } from "redis";

const port = Number(process.argv[2]);
const RESP = Number(process.argv[3] ?? 2);
const url = `redis://127.0.0.1:${port}`;
const out = { resp: RESP, errors: [] };

const received = { a: [], aPattern: [], b: [], c: [] };

function connect(extra = {}) {
  const c = createClient({ url, RESP, ...extra });
  c.on("error", (e) => out.errors.push(String(e)));
  return c.connect();
}

// Resolves when pred() holds, checking every 10 ms; rejects after 20 s.
function until(pred, what) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - start > 20000) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

const clients = [];
let ok = true;
try {
  const pub = await connect();
  // Three subscriber connections: the server places them on its I/O threads in turn, so the
  // messages cross threads as well as stay on the publisher's.
  const subA = await connect();
  const subB = await connect();
  const subC = await connect();
  clients.push(pub, subA, subB, subC);

  await subA.subscribe("news", (message, channel) => received.a.push([channel, message]));
  await subA.pSubscribe("news.*", (message, channel) => received.aPattern.push([channel, message]));
  // Buffer mode: the payload reaches the listener byte for byte.
  await subB.subscribe(
    "news",
    (message, channel) => received.b.push([channel.toString(), message.toString("hex")]),
    true,
  );
  await subC.sSubscribe("orders", (message, channel) => received.c.push([channel, message]));

  out.numsub = await pub.pubSubNumSub(["news", "nobody"]);
  out.numpat = await pub.pubSubNumPat();
  out.channels = (await pub.pubSubChannels("news*")).sort();
  out.shardchannels = await pub.pubSubShardChannels();
  out.shardnumsub = await pub.pubSubShardNumSub(["orders"]);

  out.publish = {};
  out.publish.news = await pub.publish("news", "hello");
  out.publish.nobody = await pub.publish("nobody", "lost");
  out.publish.binary = await pub.publish("news", Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]));
  out.publish.sport = await pub.publish("news.sport", "goal");
  out.publish.orders = await pub.sPublish("orders", "o1");
  // 200 in a row, sent without waiting for each reply (node-redis pipelines them): they must
  // arrive in publish order.
  const seq = await Promise.all(
    Array.from({ length: 200 }, (_, i) => pub.publish("news.seq", `m${i}`)),
  );
  out.publish.seqCounts = [...new Set(seq)];

  await until(
    () => received.a.length >= 2 && received.aPattern.length >= 201 && received.b.length >= 2 &&
      received.c.length >= 1,
    "the published messages",
  );

  if (RESP === 3) {
    // RESP3: ordinary commands on a subscribed connection, replies among the pushes.
    await subA.set("k", "v");
    out.subscribedGet = await subA.get("k");
  }

  await subA.unsubscribe("news");
  await subA.pUnsubscribe("news.*");
  out.numsubAfter = await pub.pubSubNumSub(["news"]);
  out.numpatAfter = await pub.pubSubNumPat();
  out.publish.afterUnsubscribe = await pub.publish("news", "bye");
  await until(() => received.b.length >= 3, "the message after UNSUBSCRIBE");

  if (RESP === 3) {
    // Client-side caching: node-redis turns CLIENT TRACKING on and drops a cached value when the
    // server's invalidation push arrives.
    const cache = new BasicClientSideCache();
    const cached = await connect({ clientSideCache: cache });
    clients.push(cached);
    await pub.set("tracked", "1");
    const first = await cached.get("tracked");
    const second = await cached.get("tracked");
    let invalidated = 0;
    cache.on("invalidate", () => invalidated++);
    await pub.set("tracked", "2");
    await until(() => invalidated > 0, "the invalidation push");
    const third = await cached.get("tracked");
    const s = cache.stats();
    out.tracking = { values: [first, second, third], hits: s.hitCount, misses: s.missCount };
  }
} catch (e) {
  ok = false;
  out.errors.push(String(e && e.stack ? e.stack : e));
}
out.received = received;
for (const c of clients) {
  try {
    c.destroy();
  } catch (e) {
    out.errors.push(String(e));
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(ok ? 0 : 1);
