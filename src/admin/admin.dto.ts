import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import type { Role } from '../workspaces/workspaces.repository.js';

export class CreateWorkspaceDto {
  @ApiProperty({ example: 'Acme' })
  @IsString()
  @Length(1, 100)
  name: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ada', description: 'Unique in the workspace: lower case letters, digits, . _ -' })
  @IsString()
  @Matches(/^[a-z0-9._-]{1,80}$/, { message: 'name must be 1-80 of a-z 0-9 . _ -' })
  name: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  real_name?: string;

  @ApiProperty({ enum: ['member', 'admin', 'analyst'] })
  @IsIn(['member', 'admin', 'analyst'])
  role: Role;

  @ApiPropertyOptional({ example: 'ada@example.com', description: 'Unique in the workspace (users.lookupByEmail)' })
  @IsOptional()
  @IsEmail()
  @Length(3, 254)
  email?: string;
}

export class ListUsersQuery {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'Return users whose id sorts after this one' })
  @IsOptional()
  @IsString()
  after?: string;
}
