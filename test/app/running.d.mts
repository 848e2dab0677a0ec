/** Whether a process is still running; an exited but unreaped one (a zombie) counts as gone. */
export function running(pid: number): boolean;
