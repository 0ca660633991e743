import { Body, ConflictException, Controller, Get, NotFoundException, Param, Post, Query, Req, UseGuards, ForbiddenException } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { toSlackUser } from '../domain/user.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { type AdminCaller, AdminGuard, assertWorkspace } from './admin.guard.js';
import { CreateUserDto, CreateWorkspaceDto, ListUsersQuery } from './admin.dto.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('admin/v1/workspaces')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly workspaces: WorkspacesService) {}

  /** Operator only: workspace admins cannot create other workspaces. */
  @Post()
  async createWorkspace(@Req() req: { admin: AdminCaller }, @Body() dto: CreateWorkspaceDto) {
    if (!req.admin.operator) throw new ForbiddenException('only the instance operator creates workspaces');
    return this.workspaces.createWorkspace(dto.name);
  }

  @Get(':workspace')
  async getWorkspace(@Req() req: { admin: AdminCaller }, @Param('workspace') id: string) {
    assertWorkspace(req.admin, id);
    const workspace = await this.workspaces.findWorkspace(id);
    if (!workspace) throw new NotFoundException('workspace not found');
    return workspace;
  }

  /** Returns the new user's token once; only its hash is stored. */
  @Post(':workspace/users')
  async createUser(@Req() req: { admin: AdminCaller }, @Param('workspace') id: string, @Body() dto: CreateUserDto) {
    assertWorkspace(req.admin, id);
    if (!(await this.workspaces.findWorkspace(id))) throw new NotFoundException('workspace not found');
    const created = await this.workspaces.createUser(id, dto);
    if (!created) throw new ConflictException('name_taken');
    return { user: toSlackUser(created.user), role: created.user.role, token: created.token };
  }

  @Get(':workspace/users')
  async listUsers(@Req() req: { admin: AdminCaller }, @Param('workspace') id: string, @Query() q: ListUsersQuery) {
    assertWorkspace(req.admin, id);
    const limit = q.limit ?? 100;
    const rows = await this.workspaces.listUsers(id, q.after ?? '', limit + 1);
    const page = rows.slice(0, limit);
    return {
      users: page.map((u) => ({ ...toSlackUser(u), role: u.role })),
      next_after: rows.length > limit ? page[page.length - 1].id : null,
    };
  }
}
