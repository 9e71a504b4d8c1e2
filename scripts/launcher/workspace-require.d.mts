/** Loads a package installed for one of the workspace's packages (the launcher has no dependencies of its own). */
export function workspaceRequire(root: string, name: string): unknown;
