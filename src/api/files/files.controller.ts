import { Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { CompleteUploadArgs, FileArgs, GetUploadUrlArgs, ListFilesArgs } from './files.dto.js';
import { FilesService } from './files.service.js';

@SlackMethods()
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @SlackMethod('files.getUploadURLExternal')
  getUploadURL(@CurrentCaller() caller: Caller, @SlackArgs() args: GetUploadUrlArgs, @Req() req: FastifyRequest) {
    return this.files.getUploadURL(caller, args, `${req.protocol}://${req.host}`);
  }

  @SlackMethod('files.completeUploadExternal')
  complete(@CurrentCaller() caller: Caller, @SlackArgs() args: CompleteUploadArgs) {
    return this.files.complete(caller, args);
  }

  @SlackMethod('files.info')
  info(@CurrentCaller() caller: Caller, @SlackArgs() args: FileArgs) {
    return this.files.info(caller, args.file);
  }

  @SlackMethod('files.list')
  list(@CurrentCaller() caller: Caller, @SlackArgs() args: ListFilesArgs) {
    return this.files.list(caller, args);
  }

  @SlackMethod('files.delete')
  delete(@CurrentCaller() caller: Caller, @SlackArgs() args: FileArgs) {
    return this.files.delete(caller, args.file);
  }
}
