import { Controller, Get, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import busboy from 'busboy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { SlackError } from '../../domain/slack-error.js';
import { FileAccessDenied, FileTooLarge } from '../../jobs/files/file-bytes.js';
import { IMAGE_MIME } from '../../jobs/files/sniff.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { SlackAuthGuard } from '../slack-auth.guard.js';
import { contentDisposition, parseRange } from './byte-range.js';
import { FilesService } from './files.service.js';

/** What every download carries: nothing in it runs as a page of ours, and no browser guesses its type. */
const SAFE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'private, no-cache',
};

/**
 * The bytes themselves, outside /api: the upload URL files.getUploadURLExternal hands out (the URL
 * is the credential, as Slack's is) and the `url_private` / `url_private_download` / thumbnail
 * URLs, which need the caller's token (`Authorization: Bearer`) or web session cookie. Both stream.
 */
@Controller()
@ApiExcludeController()
export class FileTransferController {
  constructor(
    private readonly files: FilesService,
    private readonly auth: SlackAuthGuard,
  ) {}

  @Post('files/upload/:id')
  uploadPost(@Param('id') id: string, @Query('k') secret: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.upload(id, secret, req, reply);
  }

  @Put('files/upload/:id')
  uploadPut(@Param('id') id: string, @Query('k') secret: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.upload(id, secret, req, reply);
  }

  @Get('files-pri/:id/thumb_360.png')
  thumb(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.download(id, 'thumb', false, req, reply);
  }

  @Get('files-pri/:id/download/:name')
  downloadAttachment(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.download(id, 'file', true, req, reply);
  }

  @Get('files-pri/:id/:name')
  downloadPrivate(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.download(id, 'file', false, req, reply);
  }

  private async upload(id: string, secret: string | undefined, req: FastifyRequest, reply: FastifyReply) {
    try {
      const body = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '') ? await firstFilePart(req) : req.raw;
      const size = await this.files.acceptUpload(id, typeof secret === 'string' ? secret : '', body);
      return reply.code(200).type('text/plain').send(`OK - ${size}`);
    } catch (err) {
      if (err instanceof FileTooLarge) return fail(reply.header('connection', 'close'), 413, 'file_too_large');
      if (err instanceof FileAccessDenied) return fail(reply, 403, 'ekm_access_denied');
      if (err instanceof SlackError) return fail(reply, err.status === 200 ? 400 : err.status, err.code);
      throw err;
    }
  }

  private async download(id: string, variant: 'file' | 'thumb', attachment: boolean, req: FastifyRequest, reply: FastifyReply) {
    let caller: Caller;
    try {
      // As on /api, but a GET of bytes changes nothing and an <img> sends no CSRF header.
      caller = await this.auth.callerOf(req, { csrf: false });
    } catch (err) {
      if (err instanceof SlackError) return fail(reply, err.code === 'ratelimited' ? 429 : 401, err.code);
      throw err;
    }
    try {
      const got = await this.files.download(caller, id, variant, (size) => parseRange(req.headers.range, size));
      reply.headers(SAFE_HEADERS);
      if (variant === 'thumb') return reply.code(200).type('image/png').header('content-disposition', 'inline').send(got.stream);
      const image = got.file.image_type;
      reply
        .header('accept-ranges', 'bytes')
        .type(image ? IMAGE_MIME[image] : 'application/octet-stream')
        .header('content-disposition', contentDisposition(image && !attachment ? 'inline' : 'attachment', got.name));
      if ('unsatisfiable' in got) return reply.code(416).header('content-range', `bytes */${got.size}`).send();
      if (got.range) {
        const { start, end } = got.range;
        return reply
          .code(206)
          .header('content-range', `bytes ${start}-${end}/${got.size}`)
          .header('content-length', end - start + 1)
          .send(got.stream);
      }
      return reply.code(200).header('content-length', got.size).send(got.stream);
    } catch (err) {
      if (err instanceof FileAccessDenied) return fail(reply, 403, 'ekm_access_denied');
      if (err instanceof SlackError)
        return fail(reply, err.status >= 400 ? err.status : err.code === 'ekm_access_denied' ? 403 : 404, err.code);
      throw err;
    }
  }
}

function fail(reply: FastifyReply, status: number, error: string) {
  return reply.code(status).headers({ 'x-content-type-options': 'nosniff' }).type('application/json').send({ ok: false, error });
}

/** The first file of a multipart body (what @slack/web-api's filesUploadV2 posts), as a stream. */
function firstFilePart(req: FastifyRequest): Promise<Readable> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch {
      return reject(new SlackError('invalid_form_data', 400));
    }
    bb.once('file', (_field, stream) => {
      bb.on('error', (err) => stream.destroy(err as Error));
      resolve(stream);
    });
    bb.once('error', () => reject(new SlackError('invalid_form_data', 400)));
    bb.once('close', () => reject(new SlackError('no_file_data', 400)));
    req.raw.pipe(bb);
  });
}
