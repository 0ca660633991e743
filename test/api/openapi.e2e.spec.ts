import { TestApp } from '../support/test-app.js';

// The OpenAPI document at /admin/docs describes the admin API only: Slack methods (any verb, form or
// JSON bodies, Slack error codes) are not admin routes and are documented by Slack.
describe('admin OpenAPI', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start()));
  afterAll(() => t.close());

  it('lists the admin routes and no Slack /api method', async () => {
    const res = await fetch(`${t.url}/admin/docs-json`);
    expect(res.status).toBe(200);
    const paths = Object.keys(((await res.json()) as { paths: Record<string, unknown> }).paths);
    expect(paths.filter((p) => p.startsWith('/api'))).toEqual([]);
    expect(paths).toContain('/admin/v1/workspaces');
    expect(paths).toEqual(
      expect.arrayContaining([
        '/admin/v1/workspaces/{workspace}/users/{user}/sign-in-links',
        '/admin/v1/workspaces/{workspace}/users/{user}/credentials',
        '/admin/v1/workspaces/{workspace}/users/{user}/credentials/{credential}/revoke',
        '/admin/v1/workspaces/{workspace}/users/{user}/deactivate',
        '/admin/v1/workspaces/{workspace}/users/{user}/reactivate',
        '/admin/v1/audit',
        '/admin/v1/workspaces/{workspace}/audit',
      ]),
    );
    expect(paths.filter((p) => p.startsWith('/auth'))).toEqual([]);
  });
});
