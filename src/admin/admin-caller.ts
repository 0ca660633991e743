/** Who is calling the admin API: the instance operator (every workspace) or one workspace's admin (or analyst, where allowed). */
export type AdminCaller = { operator: true } | { operator: false; workspace: string; userId: string };
