import {
  Body,
  ConflictException,
  Controller,
  Get,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  ForbiddenException,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { toSlackUser } from '../domain/user.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { type AdminCaller, AdminGuard } from './admin.guard.js';
import { AuditInterceptor, AuditTarget } from './audit.interceptor.js';
import { CreateUserDto, CreateWorkspaceDto, ListUsersQuery } from './admin.dto.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('admin/v1/workspaces')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class AdminController {
  constructor(private readonly workspaces: WorkspacesService) {}

  /** Operator only: workspace admins cannot create other workspaces. */
  @Post()
  @AuditTarget({ kind: 'workspace', id: (answer: { id: string }) => answer.id })
  async createWorkspace(@Req() req: { admin: AdminCaller }, @Body() dto: CreateWorkspaceDto) {
    if (!req.admin.operator) throw new ForbiddenException('only the instance operator creates workspaces');
    return this.workspaces.createWorkspace(dto.name);
  }

  @Get(':workspace')
  async getWorkspace(@Param('workspace') id: string) {
    return this.workspaces.findWorkspace(id); // AdminGuard checked access and existence
  }

  /** Returns the new user's token once; only its hash is stored. */
  @Post(':workspace/users')
  @AuditTarget({ kind: 'user', id: (answer: { user: { id: string } }) => answer.user.id })
  async createUser(@Param('workspace') id: string, @Body() dto: CreateUserDto) {
    const created = await this.workspaces.createUser(id, dto);
    if (!created)
      throw new ConflictException(dto.email && (await this.workspaces.emailTaken(id, dto.email)) ? 'email_taken' : 'name_taken');
    return { user: toSlackUser(created.user), role: created.user.role, token: created.token };
  }

  @Get(':workspace/users')
  async listUsers(@Param('workspace') id: string, @Query() q: ListUsersQuery) {
    const limit = q.limit ?? 100;
    const rows = await this.workspaces.listUsers(id, q.after ?? '', limit + 1);
    const page = rows.slice(0, limit);
    return {
      users: page.map((u) => ({ ...toSlackUser(u), role: u.role })),
      next_after: rows.length > limit ? page[page.length - 1].id : null,
    };
  }
}
