import { All, Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SlackError } from '../domain/slack-error.js';

/** Any /api/<method> without a handler of its own (static routes always win over this one). */
@Controller('api')
@ApiExcludeController()
export class UnknownMethodController {
  @All(':method')
  unknown(): never {
    throw new SlackError('unknown_method');
  }
}
