import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { CryptoModule } from '../../crypto/crypto.module.js';
import { EventStoreModule } from '../../event-store/event-store.module.js';
import { JobsModule } from '../../jobs/jobs.module.js';
import { WorkspacesModule } from '../../workspaces/workspaces.module.js';
import { ChannelsRepository } from '../channels.repository.js';
import { FILE_SEARCH } from '../search/file-search.js';
import { SlackAuthGuard } from '../slack-auth.guard.js';
import { FileTransferController } from './file-transfer.controller.js';
import { FilesQueryRepository } from './files-query.repository.js';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';

const UPLOAD_PATH = '/files/upload/';
const STREAMED_TYPES = ['multipart/form-data', 'application/octet-stream'];

/** files.* methods, the upload URL and the file URLs (issue 11). */
@Module({
  imports: [EventStoreModule, CryptoModule, WorkspacesModule, JobsModule],
  controllers: [FilesController, FileTransferController],
  // search.all's files section (src/api/search/file-search.ts).
  // SlackAuthGuard: the file URLs authenticate as /api does (FileTransferController).
  providers: [FilesService, FilesQueryRepository, ChannelsRepository, SlackAuthGuard, { provide: FILE_SEARCH, useExisting: FilesService }],
  exports: [FilesService, FILE_SEARCH],
})
export class FilesModule implements OnModuleInit {
  constructor(private readonly http: HttpAdapterHost) {}

  /**
   * Upload bodies are left unparsed for the upload route, which streams them into storage (the body
   * limit of the JSON API does not apply to them; FILES_MAX_BYTES does). Everywhere else these
   * types stay unsupported (415), as before.
   */
  onModuleInit(): void {
    const fastify = this.http.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify?.addContentTypeParser) return; // a worker process: no HTTP
    // Any other type (text/plain, JSON, none) would meet fastify's own parsers, which read the body
    // before the route: the upload would then stream nothing and store an empty file. The bytes of
    // an upload are opaque whatever their label, so they reach the route as octet-stream.
    fastify.addHook('onRequest', (req, _reply, done) => {
      const type = req.headers['content-type'] ?? '';
      if (req.url.startsWith(UPLOAD_PATH) && !/^multipart\/form-data/i.test(type)) req.headers['content-type'] = 'application/octet-stream';
      done();
    });
    for (const type of STREAMED_TYPES) {
      if (fastify.hasContentTypeParser(type)) continue;
      fastify.addContentTypeParser(type, (req, _payload, done) => {
        if (req.url.startsWith(UPLOAD_PATH)) return done(null, undefined);
        done(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), undefined);
      });
    }
  }
}
