import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

// http_ece (a dependency of web-push) is CommonJS without types: the RFC 8188/8291 reference code.
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer }): Buffer;
};

/** A browser's push subscription: its keys stay here, the server gets endpoint + public parts. */
export class Device {
  readonly ecdh = createECDH('prime256v1');
  readonly authSecret = randomBytes(16);
  /** What the push service answers for this device. */
  status = 201;
  /** Answers for the next requests, before `status` applies again. */
  readonly next: number[] = [];

  constructor(
    readonly id: string,
    readonly endpoint: string,
  ) {
    this.ecdh.generateKeys();
  }

  get keys() {
    return { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.authSecret.toString('base64url') };
  }

  /** Decrypts a received body as the browser would (RFC 8291, aes128gcm). */
  open(body: Buffer): Record<string, unknown> {
    return JSON.parse(ece.decrypt(body, { version: 'aes128gcm', privateKey: this.ecdh, authSecret: this.authSecret }).toString('utf8'));
  }
}

export interface Received {
  device: Device;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What the service answered. */
  status: number;
}

/**
 * A Web Push service on 127.0.0.1 (plain http: the app under test allows http and loopback
 * explicitly). Records every request per device and answers with the device's `status`.
 */
export class PushService {
  readonly received: Received[] = [];
  private readonly devices = new Map<string, Device>();
  private server!: Server;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const device = this.devices.get(req.url?.replace(/^\/push\//, '') ?? '');
        if (!device || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        const status = device.next.shift() ?? device.status;
        this.received.push({ device, headers: req.headers, body: Buffer.concat(chunks), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  device(): Device {
    const id = randomBytes(8).toString('hex');
    const device = new Device(id, `${this.base}/push/${id}`);
    this.devices.set(id, device);
    return device;
  }

  to(device: Device): Received[] {
    return this.received.filter((r) => r.device === device);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
