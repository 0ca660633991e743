import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Config } from '../config/config.js';

// @nestjs/platform-socket.io brings its own copy of socket.io: take the types from it.
type IoServerOptions = NonNullable<Parameters<IoAdapter['createIOServer']>[1]>;

/** Socket.IO with a payload cap, and without per-message deflate (it costs memory per connection). */
export class RealtimeIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: Config,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoServerOptions) {
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.config.SOCKET_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      httpCompression: false,
    } as IoServerOptions);
  }
}
