// The Moleculer side of bench:peers, in its own process: one `echo.ping` action behind the Redis transporter.
import moleculer from 'moleculer';

const [namespace = 'bench'] = process.argv.slice(2);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const broker = new moleculer.ServiceBroker({ namespace, nodeID: `peers-worker-${process.pid}`, transporter: url, logger: false });
broker.createService({
  name: 'echo',
  actions: {
    // Same reply shape as the bus's echo.ping, so the three cases move comparable bytes.
    ping: (ctx: moleculer.Context<{ n: number }>) => ({ n: ctx.params.n, worker: broker.nodeID, traceId: ctx.requestID ?? '', tenantId: 'bench' }),
  },
});
await broker.start();
process.on('SIGTERM', () => void broker.stop().then(() => process.exit(0)));
console.log('bench worker ready');
