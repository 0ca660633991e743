import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type WebSocket, WebSocketServer } from 'ws';
import { AppsService } from '../../jobs/app-events/apps.service.js';
import { type AppConnection, SocketModeHub } from '../../jobs/app-events/socket-mode-hub.js';
import { WorkspacesService } from '../../workspaces/workspaces.service.js';

export const SOCKET_MODE_PATH = '/apps/socket-mode';
const PING_MS = 10_000;
const REVOCATION_CHECK_MS = 500;
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Slack's Socket Mode on this server's HTTP port (the `ws` package, its own path next to
 * Socket.IO's): the URL from apps.connections.open carries a single-use ticket; the server says
 * `hello`, sends `events_api` / `interactive` envelopes through the hub, takes acks, pings, and
 * says `disconnect` before it closes a connection (revoked token, node shutting down).
 */
@Injectable()
export class SocketModeServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('SocketMode');
  private wss: WebSocketServer | undefined;
  private readonly live = new Map<WebSocket, AppConnection>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly hub: SocketModeHub,
    private readonly apps: AppsService,
    private readonly workspaces: WorkspacesService,
  ) {
    // A revocation on this node closes at once; one heard from another node through the bus lands
    // in the revoked set, which the check below reads twice a second.
    workspaces.onRevoked(async ({ tokens }) => hub.closeTokens(tokens, 'token_revoked'));
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as import('node:http').Server | undefined;
    if (!server) return; // a worker-only process serves no sockets
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== SOCKET_MODE_PATH) return; // Socket.IO's, or nobody's
      void this.upgrade(req, socket, head, url.searchParams.get('ticket') ?? '');
    });
    this.timers.push(
      setInterval(() => {
        for (const conn of [...this.live.values()]) if (this.workspaces.wasRevoked(conn.tokenId)) conn.close('token_revoked');
      }, REVOCATION_CHECK_MS),
    );
    // Slack's clients expect the server's pings (and close a connection that stops getting them).
    this.timers.push(setInterval(() => this.live.forEach((_, ws) => ws.ping()), PING_MS));
    for (const t of this.timers) t.unref();
  }

  onModuleDestroy(): void {
    for (const t of this.timers) clearInterval(t);
    for (const conn of [...this.live.values()]) conn.close('server_shutting_down');
    this.wss?.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ticket: string): Promise<void> {
    socket.on('error', () => {});
    const redeemed = ticket ? await this.apps.redeemSocketTicket(ticket).catch(() => undefined) : undefined;
    if (!redeemed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.accept(ws, redeemed.app.id, redeemed.tokenId));
  }

  private accept(ws: WebSocket, appId: string, tokenId: string): void {
    const conn: AppConnection = {
      id: randomUUID(),
      appId,
      tokenId,
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      },
      close: (reason) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'atomcast' } }));
        ws.close(1000, reason);
        // A peer that never completes the close handshake is cut off.
        setTimeout(() => ws.terminate(), 1000).unref();
        this.drop(ws);
      },
    };
    this.live.set(ws, conn);
    ws.on('error', () => {});
    ws.on('close', () => this.drop(ws));
    ws.on('message', (data, binary) => {
      if (binary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (msg && typeof msg === 'object')
        this.hub.ack(conn, (msg as { envelope_id?: unknown }).envelope_id, (msg as { payload?: unknown }).payload);
    });
    this.hub.add(conn);
    conn.send({
      type: 'hello',
      num_connections: this.hub.connections(appId).length,
      debug_info: { host: 'atomcast', build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: appId },
    });
  }

  private drop(ws: WebSocket): void {
    const conn = this.live.get(ws);
    if (!conn) return;
    this.live.delete(ws);
    this.hub.remove(conn);
    this.log.debug(`app ${conn.appId}: connection closed`);
  }
}
