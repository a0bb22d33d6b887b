import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceView } from '../../orchestrator/aws/port';
import { HttpGate, healthUrlFor } from '../../orchestrator/gates/http';

function instance(ip = '127.0.0.1'): InstanceView {
  return {
    instanceId: 'i-new',
    availabilityZone: 'a',
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: false,
    launchedFrom: {},
    privateIpAddress: ip,
    elb: {},
  };
}

async function server(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void>; paths: string[] }> {
  const paths: string[] = [];
  const s = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    paths,
    close: () => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }),
  };
}

test('healthUrlFor: {ip} placeholder or a path', (t) => {
  t.is(healthUrlFor('http://{ip}:8080/health', '10.0.0.5'), 'http://10.0.0.5:8080/health');
  t.is(healthUrlFor('/health', '10.0.0.5'), 'http://10.0.0.5/health');
  t.is(healthUrlFor(':8080/health', '10.0.0.5'), 'http://10.0.0.5:8080/health');
});

test('HTTP gate passes on 2xx from the instance address', async (t) => {
  const s = await server((_req, res) => res.writeHead(204).end());
  try {
    const r = await new HttpGate(`http://{ip}:${s.port}/health`).check(instance());
    t.true(r.ok);
    t.deepEqual(s.paths, ['/health']);
  } finally {
    await s.close();
  }
});

test('HTTP gate fails on 503, naming URL and status', async (t) => {
  const s = await server((_req, res) => res.writeHead(503).end('starting'));
  try {
    const r = await new HttpGate(`:${s.port}/health`).check(instance());
    t.false(r.ok);
    t.regex(r.state, new RegExp(`GET http://127.0.0.1:${s.port}/health: HTTP 503`));
  } finally {
    await s.close();
  }
});

test('HTTP gate fails when there is no answer within the timeout', async (t) => {
  const s = await server(() => undefined); // never answers
  try {
    const r = await new HttpGate(`http://{ip}:${s.port}/`, 200).check(instance());
    t.false(r.ok);
    t.regex(r.state, /no answer within 200 ms/);
  } finally {
    await s.close();
  }
});

test('HTTP gate fails on a refused connection and without an address', async (t) => {
  const s = await server((_req, res) => res.end());
  const port = s.port;
  await s.close();
  const r = await new HttpGate(`http://{ip}:${port}/`).check(instance());
  t.false(r.ok);
  t.regex(r.state, /ECONNREFUSED/);
  const r2 = await new HttpGate('/x').check({ ...instance(), privateIpAddress: undefined });
  t.false(r2.ok);
});
