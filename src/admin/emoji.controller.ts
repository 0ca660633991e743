import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, IsUrl, MaxLength } from 'class-validator';
import { CustomEmojiRepository } from '../workspaces/custom-emoji.repository.js';
import { CUSTOM_EMOJI_NAME, isStandardEmoji } from '../workspaces/emoji-names.js';
import { AdminGuard } from './admin.guard.js';
import { AuditInterceptor } from './audit.interceptor.js';

export class CustomEmojiDto {
  @ApiProperty({ example: 'https://emoji.example.com/party-parrot.gif', description: 'Image URL (https or http)' })
  @IsString()
  @MaxLength(2000)
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true })
  url: string;
}

@ApiTags('custom emoji')
@ApiBearerAuth()
@Controller('admin/v1/workspaces/:workspace/emoji')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class EmojiController {
  constructor(private readonly emoji: CustomEmojiRepository) {}

  @Get()
  async list(@Param('workspace') workspace: string) {
    return { emoji: await this.emoji.list(workspace) };
  }

  /** Adds a custom emoji; 409 when the workspace has one of that name, 400 for a bad or standard name. */
  @Put(':name')
  async add(@Param('workspace') workspace: string, @Param('name') name: string, @Body() dto: CustomEmojiDto) {
    if (!CUSTOM_EMOJI_NAME.test(name) || isStandardEmoji(name))
      throw new BadRequestException("name must be 1-100 of a-z 0-9 _ - ' and not a standard emoji");
    if (!(await this.emoji.add(workspace, name, dto.url))) throw new ConflictException('name_taken');
    return { name, url: dto.url };
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('workspace') workspace: string, @Param('name') name: string) {
    if (!(await this.emoji.remove(workspace, name))) throw new NotFoundException('emoji_not_found');
  }
}
