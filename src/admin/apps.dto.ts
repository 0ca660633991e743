import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUrl, Length, Matches, ValidateIf } from 'class-validator';
import { SUBSCRIBABLE } from '../jobs/app-events/event-payloads.js';

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

class AppSettingsDto {
  @ApiPropertyOptional({
    enum: SUBSCRIBABLE,
    isArray: true,
    description: 'Bot events the app receives (Slack names: message.channels, app_mention, ...)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @IsIn(SUBSCRIBABLE, { each: true })
  events?: string[];

  @ApiPropertyOptional({
    nullable: true,
    example: 'https://bot.example.com/slack/events',
    description: 'Events API request URL; must answer the url_verification challenge; null removes it',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2000)
  request_url?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Where block_actions payloads are POSTed (Socket Mode apps need none)' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2000)
  interactivity_url?: string | null;
}

export class InstallAppDto extends AppSettingsDto {
  @ApiProperty({ example: 'Deploy Bot' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ example: 'deploybot', description: "The bot user's name (default: from the app's name)" })
  @IsOptional()
  @Matches(/^[a-z0-9._-]{1,80}$/, { message: 'bot_name must be 1-80 of a-z 0-9 . _ -' })
  bot_name?: string;
}

export class UpdateAppDto extends AppSettingsDto {}

export class CreateWebhookDto {
  @ApiProperty({ example: 'C0123456789', description: 'The channel the webhook posts into (the bot joins a public one)' })
  @IsString()
  @Length(1, 32)
  channel: string;
}
